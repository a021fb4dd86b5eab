"""The thin GIMP-facing half of the MAGIC plug-in: procedure arguments,
pixels in and out of GIMP, progress and dialogs. Everything that can be
decided without GIMP lives in magic_gimp_core."""
