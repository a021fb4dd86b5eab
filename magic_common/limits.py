"""The images the engine accepts, and the mask rule; the server, the client and the
plug-in check the same limits before anything travels."""

MIN_IMAGE_SIDE = 16  # px: smaller images are refused
MAX_IMAGE_PIXELS = 100_000_000  # larger images are refused (memory); a server may set a lower limit
MASK_INSIDE = 128  # a mask pixel (0..255) is inside at this value or above: soft masks are thresholded here
