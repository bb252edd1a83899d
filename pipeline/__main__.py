import os
import sys

from pipeline.cli import main

code = main()
for stream in (sys.stdout, sys.stderr):  # everything the command opened is closed: leave without the
    try:  # interpreter's teardown (about 30 ms); a stream closed by the caller (`>&-`) is None
        if stream is not None:
            stream.flush()
    except (BrokenPipeError, ValueError, OSError):
        pass
os._exit(code)
