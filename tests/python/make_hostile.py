#!/usr/bin/env python3
"""Write the hostile pickles of tests/fixtures/hostile/.

    python make_hostile.py OUTDIR [--base PICKLE]

Every file here must be REFUSED by the loader.  manifest.json lists, for each
file, the text the loader's error message must contain ("refused": the global
as module.name, the opcode name, or a short word such as "shape" / "dtype")
and why the file is hostile.

Some attack resources rather than run code: compression bombs, counts and
shapes that ask for more memory than the file holds, dotted global names
that protocol 4 resolves by walking attributes.  These are refused within the
default loading budget (--max-model-bytes, 256 MiB) naming the limit or the
name.

The files are built with hand-written opcodes or with pickle.dumps of small
classes whose __reduce__ names a dangerous callable.  Nothing here is ever
unpickled: the script only checks its own output with pickle_scan.py, which
walks the opcodes without importing or calling anything.  The payloads are
harmless anyway (echo, reading /dev/null, ...).

A real estimator is needed for some cases; it is model-files/pickle_model.pkl
(the challenge LogisticRegression, a trusted file), which is unpickled here.
"""

import argparse
import io
import json
import os
import pickle
import struct
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import pickle_scan  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_BASE = os.path.join(REPO, "model-files", "pickle_model.pkl")

ECHO = "echo skserve hostile fixture - this must never run"


# --------------------------------------------------------------------------
# raw opcode helpers (see pickletools for the opcode reference)
# --------------------------------------------------------------------------

PROTO2 = b"\x80\x02"
PROTO4 = b"\x80\x04"
MARK, STOP, TUPLE, REDUCE, BUILD = b"(", b".", b"t", b"R", b"b"
NONE, TRUE, FALSE = b"N", b"\x88", b"\x89"
EMPTY_DICT, EMPTY_TUPLE, EMPTY_LIST = b"}", b")", b"]"
SETITEMS, SETITEM, APPENDS = b"u", b"s", b"e"
NEWOBJ, STACK_GLOBAL = b"\x81", b"\x93"


def GLOBAL(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def U(s):  # BINUNICODE
    b = s.encode("utf-8")
    return b"X" + struct.pack("<I", len(b)) + b


def SU(s):  # SHORT_BINUNICODE (protocol 4)
    b = s.encode("utf-8")
    assert len(b) < 256
    return b"\x8c" + bytes([len(b)]) + b


def BYTES(b):  # BINBYTES (protocol 3+)
    return b"B" + struct.pack("<I", len(b)) + b


def INT(n):
    if -(2 ** 31) <= n < 2 ** 31:
        return b"J" + struct.pack("<i", n)
    raw = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw  # LONG1


def TUP(*items):
    return MARK + b"".join(items) + TUPLE


def CALL(func, *args):
    return func + TUP(*args) + REDUCE


def numpy_dtype(code, byteorder="<", state=None):
    # what numpy writes for np.dtype(code): dtype(code, False, True) + setstate
    if state is None:
        state = TUP(INT(3), U(byteorder), NONE, NONE, NONE, INT(-1), INT(-1), INT(0))
    return CALL(GLOBAL("numpy", "dtype"), U(code), FALSE, TRUE) + state + BUILD


# np.dtype([("a", "<f8")]) exactly as numpy pickles it
STRUCTURED_STATE = TUP(INT(3), U("|"), NONE, TUP(U("a")),
                       EMPTY_DICT + U("a") + TUP(numpy_dtype("f8"), INT(0)) + SETITEM,
                       INT(8), INT(1), INT(16))


def numpy_array(shape, dtype_code, data, fortran=False, np_core="numpy.core", subtype=None,
                dtype_state=None):
    """An ndarray as numpy 1.x pickles it (protocol >= 3):
    _reconstruct(ndarray, (0,), b'b') then BUILD (1, shape, dtype, fortran, data)."""
    subtype = subtype if subtype is not None else GLOBAL("numpy", "ndarray")
    return (CALL(GLOBAL(np_core + ".multiarray", "_reconstruct"), subtype, TUP(INT(0)), BYTES(b"b"))
            + TUP(INT(1), TUP(*[INT(n) for n in shape]), numpy_dtype(dtype_code, state=dtype_state),
                  TRUE if fortran else FALSE, BYTES(data))
            + BUILD)


# --------------------------------------------------------------------------
# __reduce__ helpers
# --------------------------------------------------------------------------

class Reduce:
    """Pickles as func(*args); func is looked up by pickle itself, so the
    module name is whatever the callable reports (os.system -> posix)."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


class Raw:
    """Spliced verbatim into the stream by RawPickler."""

    def __init__(self, data):
        self.data = data


class RawPickler(pickle._Pickler):
    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, Raw):
            self.framer.commit_frame()
            self.write(obj.data)
            return
        return super().save(obj, save_persistent_id)


def dumps_raw(obj, protocol):
    buf = io.BytesIO()
    RawPickler(buf, protocol=protocol).dump(obj)
    return buf.getvalue()


# --------------------------------------------------------------------------
# the cases
# --------------------------------------------------------------------------

def build_cases(base_model):
    import functools
    import operator
    import os as _os
    import runpy
    import subprocess

    import joblib

    cases = []  # (file name, bytes or callable(path), refused, why)

    def add(name, data, refused, why):
        cases.append((name, data, refused, why))

    # --- dangerous globals, raw GLOBAL / STACK_GLOBAL ---------------------
    add("os_system_global.pkl",
        PROTO2 + CALL(GLOBAL("os", "system"), U(ECHO)) + STOP,
        "os.system", "GLOBAL 'os system' + REDUCE: runs a shell command")
    add("posix_system_global.pkl",
        PROTO2 + CALL(GLOBAL("posix", "system"), U(ECHO)) + STOP,
        "posix.system", "GLOBAL 'posix system': how os.system is pickled on Linux")
    add("nt_system_global.pkl",
        PROTO2 + CALL(GLOBAL("nt", "system"), U(ECHO)) + STOP,
        "nt.system", "GLOBAL 'nt system': how os.system is pickled on Windows")
    add("posix_system_stack_global.pkl",
        PROTO4 + SU("posix") + b"\x94" + SU("system") + b"\x94" + STACK_GLOBAL + b"\x94"
        + SU(ECHO) + b"\x85" + REDUCE + STOP,
        "posix.system", "STACK_GLOBAL (protocol 4) spelling of posix.system, names memoized")
    add("builtin_eval_py2_spelling.pkl",
        PROTO2 + CALL(GLOBAL("__builtin__", "eval"), U("'skserve hostile fixture'")) + STOP,
        "eval", "Python 2 spelling __builtin__.eval (mapped to builtins by fix_imports)")
    add("builtins_open_global.pkl",
        PROTO2 + CALL(GLOBAL("builtins", "open"), U("/dev/null")) + STOP,
        "builtins.open", "GLOBAL 'builtins open': file access")
    add("numpy_load_global.pkl",
        PROTO2 + CALL(GLOBAL("numpy", "load"), U("/dev/null"), TRUE) + STOP,
        "numpy.load", "numpy.load(allow_pickle=True) unpickles an arbitrary file")
    add("numpy_lib_npyio_load.pkl",
        PROTO2 + CALL(GLOBAL("numpy.lib.npyio", "load"), U("/dev/null"), TRUE) + STOP,
        "numpy.lib.npyio.load", "numpy module is not enough: only listed numpy names are allowed")
    add("numpy_lib_npyio_impl_load.pkl",
        PROTO2 + CALL(GLOBAL("numpy.lib._npyio_impl", "load"), U("/dev/null"), TRUE) + STOP,
        "numpy.lib._npyio_impl.load", "numpy 2 location of numpy.load")
    add("numpy_testing_runstring.pkl",
        PROTO2 + CALL(GLOBAL("numpy.testing._private.utils", "runstring"),
                      U("print('skserve hostile fixture')"), EMPTY_DICT) + STOP,
        "numpy.testing._private.utils.runstring", "exec() in disguise inside numpy")
    add("numpy_core_multiarray_other.pkl",
        PROTO2 + CALL(GLOBAL("numpy.core.multiarray", "fromfile"), U("/dev/null")) + STOP,
        "numpy.core.multiarray.fromfile",
        "same module as the allowed _reconstruct, but not an allowed name")
    add("copy_reg_reconstructor.pkl",
        PROTO2 + CALL(GLOBAL("copy_reg", "_reconstructor"), GLOBAL("evilmod", "Unknown"),
                      GLOBAL("__builtin__", "object"), NONE) + STOP,
        "_reconstructor", "protocol 0/1 style object of an unknown class (copy_reg spelling)")
    add("copyreg_reconstructor.pkl",
        PROTO2 + CALL(GLOBAL("copyreg", "_reconstructor"), GLOBAL("evilmod", "Unknown"),
                      GLOBAL("builtins", "object"), NONE) + STOP,
        "_reconstructor", "copyreg._reconstructor of an unknown class")
    add("unknown_class_newobj.pkl",
        PROTO2 + GLOBAL("evilmod", "Unknown") + EMPTY_TUPLE + NEWOBJ + STOP,
        "evilmod.Unknown", "class that is not on the allow list")

    # --- dangerous globals through __reduce__ ------------------------------
    reduce_cases = [
        ("reduce_os_system_p2.pkl", _os.system, (ECHO,), 2, "posix.system"),
        ("reduce_os_system_p4.pkl", _os.system, (ECHO,), 4, "posix.system"),
        ("reduce_builtins_eval.pkl", eval, ("'skserve hostile fixture'",), 4, "builtins.eval"),
        ("reduce_builtins_eval_p2.pkl", eval, ("'skserve hostile fixture'",), 2, "eval"),
        ("reduce_builtins_exec.pkl", exec, ("pass",), 4, "builtins.exec"),
        ("reduce_builtins_getattr.pkl", getattr, (1, "real"), 4, "builtins.getattr"),
        # open is io.open, so pickle names it io.open; builtins.open is below
        ("reduce_io_open.pkl", open, ("/dev/null",), 4, "io.open"),
        ("reduce_builtins_import.pkl", __import__, ("os",), 4, "builtins.__import__"),
        ("reduce_subprocess_popen.pkl", subprocess.Popen,
         (["echo", "skserve hostile fixture"],), 4, "subprocess.Popen"),
        ("reduce_subprocess_check_output.pkl", subprocess.check_output,
         (["echo", "skserve hostile fixture"],), 4, "subprocess.check_output"),
        ("reduce_runpy_run_code.pkl", runpy._run_code, ("pass", {}), 4, "runpy._run_code"),
    ]
    for name, func, args, proto, refused in reduce_cases:
        add(name, pickle.dumps(Reduce(func, args), protocol=proto), refused,
            "__reduce__ returning %s(...)" % refused)
    add("functools_partial.pkl",
        pickle.dumps(functools.partial(_os.system, ECHO), protocol=4),
        "posix.system", "partial(os.system, ...) defers the call to whoever calls it")
    add("operator_attrgetter.pkl",
        pickle.dumps(operator.attrgetter("system"), protocol=4),
        "operator.attrgetter", "attrgetter reaches any attribute of an allowed object")
    add("operator_methodcaller.pkl",
        pickle.dumps(operator.methodcaller("system", ECHO), protocol=4),
        "operator.methodcaller", "methodcaller calls any method of an allowed object")

    # --- opcodes the loader does not implement (allowed class, so only the
    # opcode itself is the reason) ------------------------------------------
    lr = "sklearn.linear_model._logistic LogisticRegression"
    add("opcode_inst.pkl",
        MARK + b"i" + lr.replace(" ", "\n").encode() + b"\n" + STOP,
        "INST", "protocol 0 INST opcode: instantiates a class by name")
    add("opcode_obj.pkl",
        PROTO2 + MARK + GLOBAL(*lr.split(" ")) + b"o" + STOP,
        "OBJ", "protocol 1 OBJ opcode: instantiates a class from the stack")
    add("opcode_newobj_ex.pkl",
        PROTO4 + GLOBAL(*lr.split(" ")) + EMPTY_TUPLE + EMPTY_DICT + b"\x92" + STOP,
        "NEWOBJ_EX", "protocol 4 NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)")
    add("opcode_ext1.pkl", PROTO2 + b"\x82\x01" + STOP,
        "EXT1", "extension registry lookup (copyreg._extension_registry)")
    add("opcode_ext2.pkl", PROTO2 + b"\x83\x01\x02" + STOP,
        "EXT2", "extension registry lookup, 2-byte code")
    add("opcode_ext4.pkl", PROTO2 + b"\x84\x01\x02\x03\x04" + STOP,
        "EXT4", "extension registry lookup, 4-byte code")
    add("opcode_persid.pkl", b"Pevil-id\n" + STOP,
        "PERSID", "persistent id: resolved by application code")
    add("opcode_binpersid.pkl", PROTO2 + U("evil-id") + b"Q" + STOP,
        "BINPERSID", "binary persistent id")

    # --- hidden inside containers / real models -----------------------------
    evil = Reduce(_os.system, (ECHO,))
    add("nested_in_dict.pkl",
        pickle.dumps({"model": "ok", "x": {"y": evil}}, protocol=4),
        "posix.system", "__reduce__ trick two dicts deep")
    add("nested_in_list.pkl",
        pickle.dumps([1, 2.0, ["three", evil]], protocol=2),
        "posix.system", "__reduce__ trick inside a nested list")

    def joblib_dump(compress):
        def write(path):
            joblib.dump({"model": base_model, "x": evil}, path, compress=compress)
        return write

    add("joblib_dict_with_evil.joblib", joblib_dump(0), "posix.system",
        "joblib file: real fitted LogisticRegression next to a __reduce__ trick")
    add("joblib_dict_with_evil_zlib.joblib", joblib_dump(3), "posix.system",
        "same, zlib-compressed joblib")
    add("joblib_dict_with_evil_gzip.joblib", joblib_dump(("gzip", 3)), "posix.system",
        "same, gzip-compressed joblib")

    def with_attr(attr, value, protocol, pickler=pickle.dumps):
        import copy
        m = copy.copy(base_model)
        setattr(m, attr, value)
        return pickler(m, protocol=protocol)

    add("estimator_attr_evil_p4.pkl", with_attr("evil", evil, 4), "posix.system",
        "real LogisticRegression with an extra attribute holding the trick")
    add("estimator_attr_evil_p2.pkl", with_attr("evil", evil, 2), "posix.system",
        "same with protocol 2 (GLOBAL opcode)")
    add("estimator_coef_is_evil.pkl", with_attr("coef_", evil, 4), "posix.system",
        "the trick in place of coef_")
    add("estimator_attr_exec.pkl", with_attr("solver", Reduce(exec, ("pass",)), 4),
        "builtins.exec", "the trick in place of a string attribute")

    # object array whose elements are the trick
    obj_array = (CALL(GLOBAL("numpy.core.multiarray", "_reconstruct"), GLOBAL("numpy", "ndarray"),
                      TUP(INT(0)), BYTES(b"b"))
                 + TUP(INT(1), TUP(INT(2)),
                       CALL(GLOBAL("numpy", "dtype"), U("O8"), FALSE, TRUE)
                       + TUP(INT(3), U("|"), NONE, NONE, NONE, INT(-1), INT(-1), INT(63)) + BUILD,
                       FALSE,
                       EMPTY_LIST + MARK + U("alpha") + CALL(GLOBAL("posix", "system"), U(ECHO))
                       + APPENDS)
                 + BUILD)
    add("object_array_with_evil.pkl",
        dumps_raw_with(base_model, "classes_", obj_array, 4),
        "posix.system", "classes_ as an object array whose second element is a call")

    # --- arrays with lying metadata ------------------------------------------
    n = base_model.coef_.shape[1]
    f8 = struct.pack("<d", 0.5)

    def bad_coef(name, array_bytes, refused, why, protocol=4):
        add(name, dumps_raw_with(base_model, "coef_", array_bytes, protocol), refused, why)

    bad_coef("array_shape_bytes_mismatch.pkl",
             numpy_array((1, n), "f8", f8 * (n - 1)),
             "shape", "coef_ declares shape (1, %d) of f8 but carries %d bytes" % (n, 8 * (n - 1)))
    bad_coef("array_shape_too_much_data.pkl",
             numpy_array((1, n), "f8", f8 * (n + 1)),
             "shape", "coef_ carries more bytes than its shape needs")
    bad_coef("array_shape_terabytes.pkl",
             numpy_array((10 ** 7, 10 ** 7), "f8", f8),
             "shape", "shape (10**7, 10**7) of f8 = 800 TB with 8 bytes of data")
    bad_coef("array_shape_overflow.pkl",
             numpy_array((2 ** 62, 2 ** 62), "f8", f8),
             "shape", "element count overflows 64 bits")
    bad_coef("array_shape_negative.pkl",
             numpy_array((-1, n), "f8", f8 * n),
             "shape", "negative dimension")
    bad_coef("array_dtype_complex128.pkl",
             numpy_array((1, n), "c16", f8 * (2 * n)),
             "dtype", "complex128 coef_ (kind 'c') is not a supported dtype")
    bad_coef("array_dtype_structured.pkl",
             numpy_array((1, n), "V8", f8 * n, dtype_state=STRUCTURED_STATE),
             "dtype", "structured dtype [('a', '<f8')] (kind 'V')")
    bad_coef("array_reconstruct_wrong_subtype.pkl",
             numpy_array((1, n), "f8", f8 * n,
                         subtype=GLOBAL("sklearn.linear_model._logistic", "LogisticRegression")),
             "ndarray", "_reconstruct asked to build something that is not numpy.ndarray")

    # joblib wrapper that asks for terabytes, followed by 8 bytes
    def joblib_wrapper(shape):
        return (PROTO4 + GLOBAL("joblib.numpy_pickle", "NumpyArrayWrapper") + EMPTY_TUPLE + NEWOBJ
                + EMPTY_DICT + MARK
                + U("subclass") + GLOBAL("numpy", "ndarray")
                + U("shape") + TUP(*[INT(k) for k in shape])
                + U("order") + U("C")
                + U("dtype") + numpy_dtype("f8")
                + U("allow_mmap") + FALSE
                + U("numpy_array_alignment_bytes") + INT(16)
                + SETITEMS + BUILD)

    wrapper = joblib_wrapper((10 ** 7, 10 ** 7))
    # padding byte so that the data starts on a multiple of 16
    pad = 16 - ((len(wrapper) + 1) % 16)
    add("joblib_array_shape_terabytes.joblib",
        wrapper + bytes([pad]) + b"\xff" * pad + f8 + STOP,
        "shape", "joblib NumpyArrayWrapper of shape (10**7, 10**7) followed by 8 bytes")

    # --- resources: more memory than the file holds ----------------------------
    import numpy as np

    def joblib_bomb(compress):
        # A real model beside 512 MiB of zeros: a few hundred KiB compressed.
        def write(path):
            joblib.dump({"model": base_model, "padding": np.zeros(64 << 20)}, path,
                        compress=compress)
        return write

    add("joblib_zlib_bomb.joblib", joblib_bomb(("zlib", 9)), "--max-model-bytes",
        "zlib joblib of a real model and 512 MiB of zeros: decompression stops at the budget")
    add("joblib_gzip_bomb.joblib", joblib_bomb(("gzip", 9)), "--max-model-bytes",
        "the same in gzip")
    add("joblib_bz2_bomb.joblib", joblib_bomb(("bz2", 9)), "--max-model-bytes",
        "the same in bz2")
    add("estimator_n_features_in_huge.pkl", with_attr("n_features_in_", 2 ** 40, 4),
        "n_features_in_ = 1099511627776",
        "a real LogisticRegression claiming 2**40 features: a count is checked against the budget")
    bad_coef("array_zero_width_text_huge_shape.pkl",
             numpy_array((2 ** 40,), "U0", b""),
             "zero-width", "a <U0 array of 2**40 elements in no bytes (numpy never saves one)")
    bad_coef("array_zero_width_bytes_huge_shape_p5.pkl",
             CALL(GLOBAL("numpy.core.numeric", "_frombuffer"), b"C\x00",
                  numpy_dtype("S0"), TUP(INT(2 ** 61)), U("C")),
             "zero-width", "protocol 5's _frombuffer of an S0 array of 2**61 elements", protocol=5)

    # Dotted names: protocol 4 resolves module + 'a.b.c' by walking attributes, so a
    # suffix rule (*_error, *_score, *_gen) must not admit one.
    for proto in (4, 5):
        dotted = (SU("sklearn.metrics._regression") + SU("f2py.crackfortran.codecs.register_error")
                  + STACK_GLOBAL)
        add("dotted_suffix_name_p%d.pkl" % proto,
            with_attr("scoring", Raw(dotted), proto, pickler=dumps_raw),
            "sklearn.metrics._regression.f2py.crackfortran.codecs.register_error",
            "a real model holding sklearn.metrics._regression + 'f2py.crackfortran.codecs."
            "register_error': ends with _error, but reaches codecs through attributes")
    add("dotted_class_name_p4.pkl",
        with_attr("loss", Raw(SU("sklearn.linear_model._logistic")
                              + SU("LogisticRegression.__init__.__globals__") + STACK_GLOBAL),
                  4, pickler=dumps_raw),
        "sklearn.linear_model._logistic.LogisticRegression.__init__.__globals__",
        "an allowed class's name with attributes after it")

    # very deep nesting: a recursive loader would overflow its stack
    add("deep_nesting.pkl",
        PROTO2 + EMPTY_LIST * 50000 + b"a" * 49999 + STOP,  # EMPTY_LIST... APPEND...
        "depth", "50,000 nested lists; the loader must bound nesting instead of recursing")
    return cases


def dumps_raw_with(base_model, attr, raw_bytes, protocol):
    import copy
    m = copy.copy(base_model)
    setattr(m, attr, Raw(raw_bytes))
    return dumps_raw(m, protocol)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--base", default=DEFAULT_BASE,
                    help="trusted LogisticRegression pickle (default: %(default)s)")
    args = ap.parse_args(argv)

    if not os.path.isfile(args.base):
        sys.exit("error: %s not found (use --base)" % args.base)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # InconsistentVersionWarning: 1.1.2 pickle
        with open(args.base, "rb") as f:
            base_model = pickle.load(f)  # trusted reference model

    os.makedirs(args.outdir, exist_ok=True)
    for fn in os.listdir(args.outdir):
        if fn.endswith((".pkl", ".joblib")) or fn == "manifest.json":
            os.remove(os.path.join(args.outdir, fn))

    manifest = []
    problems = []
    for name, data, refused, why in build_cases(base_model):
        path = os.path.join(args.outdir, name)
        if callable(data):
            data(path)
        else:
            with open(path, "wb") as f:
                f.write(data)
        manifest.append({"file": name, "refused": refused, "why": why})
        # self-check without loading: named globals must really be in the file
        if "." in refused and not refused.startswith("."):
            try:
                found = pickle_scan.scan_file(path).globals
            except Exception as e:  # noqa: BLE001
                found = set()
                problems.append("%s: scan failed: %s" % (name, e))
            if refused not in found:
                problems.append("%s: %s not among %s" % (name, refused, sorted(found)))

    with open(os.path.join(args.outdir, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join(" " + json.dumps(e) for e in manifest) + "\n]\n")
    for p in problems:
        print("self-check: " + p, file=sys.stderr)
    print("%d hostile files written to %s" % (len(manifest), args.outdir))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
