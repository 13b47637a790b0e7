"""Figures shared by the design tests, derived by hand."""

# AlexNet MACs at 224: conv C_out·H·W·C_in·k² (55, 27, 13, 13, 13) plus the three linears
ALEXNET_MACS = (
    64 * 55**2 * 3 * 121
    + 192 * 27**2 * 64 * 25
    + 384 * 13**2 * 192 * 9
    + 256 * 13**2 * 384 * 9
    + 256 * 13**2 * 256 * 9
    + 9216 * 4096
    + 4096 * 4096
    + 4096 * 1000
)
