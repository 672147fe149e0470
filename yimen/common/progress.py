"""Progress bars for management commands: tqdm drawn on the command's own stderr."""

from tqdm import tqdm


class _BarStream:
    """Lets tqdm draw through Django's OutputWrapper without the line ending and colour
    that it adds to each write."""

    def __init__(self, wrapper):
        self._wrapper = wrapper

    def write(self, text):
        self._wrapper.write(text, style_func=str, ending="")

    def flush(self):
        self._wrapper.flush()


def progress_bar(command, iterable=None, *, disable: bool = False, **options) -> tqdm:
    """A bar on `command.stderr`; off when asked, or when stderr is not a terminal (logs and
    CI get no control characters)."""
    return tqdm(
        iterable,
        file=_BarStream(command.stderr),
        disable=disable or not command.stderr.isatty(),
        dynamic_ncols=True,
        **options,
    )
