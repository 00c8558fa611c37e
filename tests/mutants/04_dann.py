"""Wrong versions of lesson 04's graded functions (see tests/test_mutants.py): the blend only, whose reference changed
in issue 26 (uint8 np.where)."""
MUTANTS = {
    "blend_mnist_m": {
        "ink and background swapped": ("np.where(ink, 255 - patches, patches)", "np.where(ink, patches, 255 - patches)"),
        "the digit's grey level, not its mask (|p - digit|)": (
            "np.where(ink, 255 - patches, patches)",
            "np.abs(patches.astype(np.int16) - np.asarray(digits)[..., None]).astype(np.uint8)"),
        "wraps around in uint8 (patch - 255 * mask)": (
            "np.where(ink, 255 - patches, patches)", "patches - (ink * 255).astype(np.uint8)"),
        "the mask on the first channel only": (
            "np.where(ink, 255 - patches, patches)",
            "np.concatenate([np.where(ink, 255 - patches[..., :1], patches[..., :1]), patches[..., 1:]], -1)"),
    },
}
