# skiff's launcher for one python step, run as the single `turn` of a fresh CPython instance.
#
# `turn` runs code the way the interactive interpreter does; this turns that into what
# `python SCRIPT ARGS`, `python -c CODE ARGS` and `python -m MODULE ARGS` do: sys.argv, __main__,
# the script's folder on sys.path, tracebacks that start at the user's code, and the exit status.
# The config is spliced in below as a JSON text by the host.
def _skiff_launch(config):
    # Only modules the snapshot has already imported: anything else is read from the zip every step.
    import json
    import os
    import sys

    config = json.loads(config)
    mode, target, args = config["mode"], config["target"], config["args"]
    main = sys.modules["__main__"]
    namespace = main.__dict__
    for name in ("_skiff_launch", "_skiff_config"):
        namespace.pop(name, None)

    def report(error):
        import traceback

        # Drop the launcher's own frames: the traceback starts where the user's code does.
        tb = error.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename.startswith("<turn"):
            tb = tb.tb_next
        traceback.print_exception(type(error), error, tb)

    try:
        if mode == "module":
            import runpy

            sys.argv = [target, *args]
            sys.path.insert(0, os.getcwd())
            runpy.run_module(target, run_name="__main__", alter_sys=True)
            return
        if mode == "code":
            sys.argv = ["-c", *args]
            sys.path.insert(0, "")
            filename, source = "<string>", target
        else:
            sys.argv = [target, *args]
            try:
                with open(target, "rb") as f:
                    source = f.read()
            except OSError as e:
                print(
                    f"python: can't open file {target!r}: [Errno {e.errno}] {e.strerror}",
                    file=sys.stderr,
                )
                raise SystemExit(2) from None
            sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
            filename = target
            namespace["__file__"] = target
        code = compile(source, filename, "exec")
        exec(code, namespace)
    except SystemExit:
        raise
    except BaseException as error:
        report(error)
        raise SystemExit(1) from None
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
