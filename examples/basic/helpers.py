"""A library the agent can import in the kernel (`import helpers`)."""


def describe(values: list[float]) -> str:
    """Mean and spread of a list of numbers, as one line."""
    mean = sum(values) / len(values)
    spread = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    return f"n={len(values)} mean={mean:.4g} std={spread:.4g}"
