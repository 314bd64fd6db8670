"""Replace the generated block between two HTML-comment markers of a document."""


def replace_block(text, start, end, body, where="the document"):
    """``text`` with what lies between ``start`` and ``end`` replaced by ``body``."""
    before, found, rest = text.partition(start)
    _, found_end, after = rest.partition(end)
    if not (found and found_end):
        raise ValueError(f"{where} has no {start} ... {end} block")
    return f"{before}{start}\n{body}\n{end}{after}"
