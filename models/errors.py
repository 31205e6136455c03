"""The one exception type the command line turns into a one-line error."""


class BnnMramError(Exception):
    """A user-facing problem: bad argument, missing dataset or tool, corrupt file."""
