"""The engine: the graph of layer nodes and the rules that combine the kinds' figures."""
