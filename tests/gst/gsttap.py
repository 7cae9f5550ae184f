"""gsttap.py - what the Python element tests (test-stylize-video.py,
test-ges.py) share: TAP result lines and running a pipeline to its end.
Import it after gi.require_version("Gst", "1.0")."""
import sys

results = []


def ok(cond, name):
    """One TAP result line; the results are kept in `results`."""
    results.append(bool(cond))
    print("%s %d - %s" % ("ok" if cond else "not ok", len(results), name))
    sys.stdout.flush()


def run_to_end(p):
    """Plays pipeline p to EOS (True) or an error or 120 s (False)."""
    from gi.repository import Gst
    p.set_state(Gst.State.PLAYING)
    msg = p.get_bus().timed_pop_filtered(
        120 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    p.set_state(Gst.State.NULL)
    return msg is not None and msg.type == Gst.MessageType.EOS
