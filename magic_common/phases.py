"""What a job goes through, named once for the engine (which reports the last three),
the server (which adds the first two and sends them all in `progress` events) and the
front ends (which label them)."""

QUEUED = "queued"  # waiting for a worker; the event carries the queue position
STARTING = "starting"  # a worker took it; the engine is reading the inputs
MASK_NET = "mask_net"  # training the image-to-mask network
SYNTHESIS = "synthesis"  # MAGIC's optimisation at the classifier's scale
REFINE = "refine"  # the result carried to the photo's resolution, one step per finer level

ENGINE_PHASES = (MASK_NET, SYNTHESIS, REFINE)
PHASES = (QUEUED, STARTING) + ENGINE_PHASES
