"""Loading models: spec files (:mod:`.specfile`) and the resolution of a model argument."""
