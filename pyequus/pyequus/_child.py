"""The simulation process: `python -m pyequus._child` reads one request (JSON) on standard input, runs one
simulation in this fresh process (SimGrid allows one engine per process) and writes one reply (JSON) on
the standard output it was given.

A child started this way imports nothing of its parent: the caller's ``__main__`` (an unguarded script,
standard input, ``-c``, a notebook, a Dask worker) is never re-imported, unlike multiprocessing's spawn.
"""

import importlib
import json
import os
import sys
import traceback


def _call(target, arg):
    module, _, name = target.partition(":")
    if not module.startswith("pyequus."):
        raise ValueError(f"pyequus._child runs pyequus functions only, not {target!r}")
    fn = importlib.import_module(module)
    for part in name.split("."):
        fn = getattr(fn, part)
    return fn(arg)


def main():
    # The reply goes to the standard output we were given; anything the simulation prints goes to stderr.
    reply_fd = os.dup(1)
    os.dup2(2, 1)
    try:
        request = json.loads(sys.stdin.read())
        reply = {"ok": True, "result": _call(request["target"], request["arg"])}
    except BaseException as e:  # noqa: BLE001 - everything goes back to the caller
        reply = {"ok": False, "type": type(e).__name__, "message": str(e), "traceback": traceback.format_exc()}
    data = json.dumps(reply).encode()
    with os.fdopen(reply_fd, "wb") as out:
        out.write(data)
    sys.stdout.flush()
    os._exit(0)  # no interpreter teardown: the engine's actors are never destroyed (see sim/session.hpp)


if __name__ == "__main__":
    main()
