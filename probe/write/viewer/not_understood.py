"""What the readers did not understand in a run, and where, as the viewer's Run panel lists it: at most SHOWN kinds
and SHOWN turns of each, so that a hostile capture's header does not take the page's room."""

SHOWN = 1000  # warnings, endpoints, kinds not understood, and turns for each kind, in a page's header


class NotUnderstood:
    """The kinds of things the readers did not understand, each with the turns it was met in: the first SHOWN
    kinds and turns of each, and whether there were more kinds."""

    def __init__(self) -> None:
        self.kinds: dict[str, list[int]] = {}
        self.more = False

    def add(self, number: int, kinds: list[str]) -> None:
        for kind in kinds:
            turns = self.kinds.get(kind)
            if turns is None:
                if len(self.kinds) >= SHOWN:
                    self.more = True
                    continue
                turns = self.kinds[kind] = []
            if len(turns) < SHOWN:
                turns.append(number)
