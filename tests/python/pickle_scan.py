#!/usr/bin/env python3
"""List what pickle / joblib files reference, WITHOUT loading them.

    python pickle_scan.py [--arrays] [--opcodes] FILE_OR_DIR...

Prints the sorted set of globals ("module.name") referenced by all the given
files (directories are searched for *.pkl, *.pickle and *.joblib).  The files
are walked with pickletools.genops and a small inert stack machine: GLOBAL /
STACK_GLOBAL / INST / REDUCE / BUILD ... only build placeholder objects,
nothing is imported or called.  That is enough to follow joblib's container
format, where the raw bytes of every array are written into the stream right
after the BUILD of its NumpyArrayWrapper (and object arrays as a nested
pickle), so the scan is also safe on the hostile fixtures.

--arrays additionally prints one line per numpy array (how it was pickled,
dtype, shape, memory order); --opcodes prints the set of opcodes used.
"""

import bz2
import gzip
import io
import lzma
import os
import pickletools
import sys
import zlib


class Global:
    def __init__(self, module, name):
        self.module, self.name = module, name

    def __repr__(self):
        return "%s.%s" % (self.module, self.name)


class Call:
    """func(*args) that was never executed; .state is what BUILD applied."""

    def __init__(self, func, args, kind):
        self.func, self.args, self.kind = func, args, kind
        self.state = None

    def __repr__(self):
        return "%r%r" % (self.func, self.args)


class Opaque:
    def __init__(self, what, arg=None):
        self.what, self.arg = what, arg

    def __repr__(self):
        return "<%s %r>" % (self.what, self.arg)


_MARK = object()

COMPRESSED_MAGIC = [
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x5d\x00\x00", "lzma"),
    (b"\x78", "zlib"),
]


def decompress(data):
    """Undo joblib's compression (joblib writes the bare compressor stream)."""
    for magic, kind in COMPRESSED_MAGIC:
        if data.startswith(magic):
            if kind == "gzip":
                return gzip.decompress(data), kind
            if kind == "bz2":
                return bz2.decompress(data), kind
            if kind in ("xz", "lzma"):
                return lzma.decompress(data), kind
            return zlib.decompress(data), kind
    return data, None


def dtype_itemsize(dtype):
    """Item size of a pickled numpy.dtype placeholder, None for object."""
    if not isinstance(dtype, Call) or not dtype.args:
        raise ValueError("unexpected dtype %r" % (dtype,))
    code = dtype.args[0]
    state = dtype.state
    if code.startswith("O"):
        return None
    if isinstance(state, tuple) and len(state) >= 6 and isinstance(state[5], int) and state[5] > 0:
        return state[5]
    digits = "".join(ch for ch in code if ch.isdigit())
    if not digits:
        raise ValueError("cannot size dtype %r" % (code,))
    return int(digits)


def dtype_str(dtype):
    if isinstance(dtype, Call) and dtype.args:
        order = dtype.state[1] if isinstance(dtype.state, tuple) and len(dtype.state) > 1 else "?"
        return "%s%s" % (order, dtype.args[0])
    return repr(dtype)


class Scan:
    def __init__(self):
        self.globals = set()
        self.opcodes = set()
        self.arrays = []

    def run(self, stream, depth=0):
        stack, marks, memo = [], [], {}

        def pop_mark():
            i = marks.pop()
            items = stack[i:]
            del stack[i:]
            return items

        gen = pickletools.genops(stream)
        for op, arg, _pos in gen:
            name = op.name
            self.opcodes.add(name)
            if name in ("PROTO", "FRAME"):
                continue
            if name == "STOP":
                return stack[-1] if stack else None
            if name == "MARK":
                marks.append(len(stack))
            elif name == "POP":
                stack.pop()
            elif name == "POP_MARK":
                pop_mark()
            elif name == "DUP":
                stack.append(stack[-1])
            elif name in ("NONE", "NEWTRUE", "NEWFALSE"):
                stack.append({"NONE": None, "NEWTRUE": True, "NEWFALSE": False}[name])
            elif name in ("INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4",
                          "FLOAT", "BINFLOAT", "STRING", "BINSTRING", "SHORT_BINSTRING",
                          "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8",
                          "UNICODE", "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8"):
                stack.append(arg)
            elif name == "EMPTY_TUPLE":
                stack.append(())
            elif name == "TUPLE":
                stack.append(tuple(pop_mark()))
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                n = int(name[-1])
                items = tuple(stack[-n:])
                del stack[-n:]
                stack.append(items)
            elif name in ("EMPTY_LIST", "EMPTY_DICT", "EMPTY_SET"):
                stack.append([] if name == "EMPTY_LIST" else ({} if name == "EMPTY_DICT" else []))
            elif name == "LIST":
                stack.append(list(pop_mark()))
            elif name == "APPEND":
                v = stack.pop()
                stack[-1].append(v)
            elif name in ("APPENDS", "ADDITEMS"):
                items = pop_mark()
                stack[-1].extend(items)
            elif name == "FROZENSET":
                stack.append(list(pop_mark()))
            elif name == "DICT":
                items = pop_mark()
                stack.append(dict(zip(items[::2], items[1::2])))
            elif name == "SETITEM":
                v = stack.pop()
                k = stack.pop()
                stack[-1][k] = v
            elif name == "SETITEMS":
                items = pop_mark()
                d = stack[-1]
                for k, v in zip(items[::2], items[1::2]):
                    d[k] = v
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[arg] = stack[-1]
            elif name == "MEMOIZE":
                memo[len(memo)] = stack[-1]
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                stack.append(memo[arg])
            elif name == "GLOBAL":
                module, qual = arg.split(" ", 1)
                self.globals.add("%s.%s" % (module, qual))
                stack.append(Global(module, qual))
            elif name == "STACK_GLOBAL":
                qual = stack.pop()
                module = stack.pop()
                self.globals.add("%s.%s" % (module, qual))
                stack.append(Global(module, qual))
            elif name == "INST":
                module, qual = arg.split(" ", 1)
                self.globals.add("%s.%s" % (module, qual))
                stack.append(Call(Global(module, qual), tuple(pop_mark()), "INST"))
            elif name == "OBJ":
                items = pop_mark()
                stack.append(Call(items[0], tuple(items[1:]), "OBJ"))
            elif name == "REDUCE":
                args = stack.pop()
                func = stack.pop()
                stack.append(Call(func, args, "REDUCE"))
                self._note_array(stack[-1])
            elif name == "NEWOBJ":
                args = stack.pop()
                cls = stack.pop()
                stack.append(Call(cls, args, "NEWOBJ"))
            elif name == "NEWOBJ_EX":
                kwargs = stack.pop()
                args = stack.pop()
                cls = stack.pop()
                stack.append(Call(cls, (args, kwargs), "NEWOBJ_EX"))
            elif name == "BUILD":
                state = stack.pop()
                obj = stack[-1]
                if isinstance(obj, Call):
                    obj.state = state
                    self._after_build(obj, stream, depth)
            elif name in ("EXT1", "EXT2", "EXT4"):
                stack.append(Opaque(name, arg))
            elif name == "PERSID":
                stack.append(Opaque(name, arg))
            elif name == "BINPERSID":
                stack.append(Opaque(name, stack.pop()))
            elif name in ("NEXT_BUFFER", "READONLY_BUFFER"):
                if name == "NEXT_BUFFER":
                    stack.append(Opaque(name))
            else:
                raise ValueError("opcode %s not handled by the scanner" % name)
        raise ValueError("pickle ended without STOP")

    def _note_array(self, call):
        f = call.func
        if isinstance(f, Global) and f.name == "_frombuffer" and len(call.args) == 4:
            buf, dtype, shape, order = call.args
            nbytes = len(buf) if isinstance(buf, (bytes, bytearray)) else None
            self.arrays.append("_frombuffer dtype=%s shape=%r order=%s bytes=%s"
                               % (dtype_str(dtype), shape, order, nbytes))

    def _after_build(self, obj, stream, depth):
        f = obj.func
        if not isinstance(f, Global):
            return
        if f.name == "_reconstruct" and isinstance(obj.state, tuple) and len(obj.state) == 5:
            _ver, shape, dtype, fortran, data = obj.state
            kind = "bytes" if isinstance(data, (bytes, bytearray)) else type(data).__name__
            self.arrays.append("_reconstruct dtype=%s shape=%r fortran=%s data=%s"
                               % (dtype_str(dtype), shape, fortran, kind))
        elif f.name == "NumpyArrayWrapper" and f.module.startswith("joblib"):
            st = obj.state if isinstance(obj.state, dict) else {}
            dtype, shape, order = st.get("dtype"), st.get("shape"), st.get("order")
            itemsize = dtype_itemsize(dtype)
            if itemsize is None:
                # object array: a complete nested pickle follows
                self.arrays.append("joblib dtype=%s shape=%r order=%s nested-pickle"
                                   % (dtype_str(dtype), shape, order))
                self.run(stream, depth + 1)
                return
            padding = None
            if "numpy_array_alignment_bytes" in st:
                b = stream.read(1)
                padding = b[0] if b else 0
                stream.read(padding)
            count = 1
            for n in shape:
                count *= n
            data = stream.read(count * itemsize)
            if len(data) != count * itemsize:
                raise ValueError("truncated joblib array data")
            self.arrays.append("joblib dtype=%s shape=%r order=%s padding=%s"
                               % (dtype_str(dtype), shape, order, padding))


def scan_bytes(data):
    data, _compression = decompress(data)
    s = Scan()
    stream = io.BytesIO(data)
    s.run(stream)
    rest = stream.read()
    if rest:
        raise ValueError("%d trailing bytes after STOP" % len(rest))
    return s


def scan_file(path):
    with open(path, "rb") as f:
        return scan_bytes(f.read())


def iter_files(paths):
    for p in paths:
        if os.path.isdir(p):
            for root, _dirs, files in os.walk(p):
                for fn in sorted(files):
                    if fn.endswith((".pkl", ".pickle", ".joblib")):
                        yield os.path.join(root, fn)
        else:
            yield p


def main(argv):
    show_arrays = "--arrays" in argv
    show_ops = "--opcodes" in argv
    paths = [a for a in argv if not a.startswith("--")]
    if not paths:
        sys.exit(__doc__)
    all_globals, all_ops, failed = set(), set(), 0
    for path in sorted(iter_files(paths)):
        try:
            s = scan_file(path)
        except Exception as e:  # noqa: BLE001 - report and continue
            print("%s: cannot scan: %s" % (path, e), file=sys.stderr)
            failed += 1
            continue
        all_globals |= s.globals
        all_ops |= s.opcodes
        if show_arrays:
            for a in s.arrays:
                print("%s: %s" % (path, a))
    for g in sorted(all_globals):
        print(g)
    if show_ops:
        print("opcodes: " + " ".join(sorted(all_ops)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
