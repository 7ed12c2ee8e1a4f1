//! Pickle opcodes by name, as `pickletools` and CPython's `Lib/pickle.py` call them.

#![allow(dead_code)]

/// `(`: push the mark.
pub(crate) const MARK: u8 = b'(';
/// `.`: end of the pickle.
pub(crate) const STOP: u8 = b'.';
/// `0`: discard the top of the stack.
pub(crate) const POP: u8 = b'0';
/// `1`: discard the stack down to the topmost mark.
pub(crate) const POP_MARK: u8 = b'1';
/// `2`: push the top of the stack again.
pub(crate) const DUP: u8 = b'2';
/// `F`: a float as decimal text.
pub(crate) const FLOAT: u8 = b'F';
/// `I`: an integer as decimal text (`I01`/`I00` are `True`/`False`).
pub(crate) const INT: u8 = b'I';
/// `J`: a 4-byte signed integer.
pub(crate) const BININT: u8 = b'J';
/// `K`: a 1-byte unsigned integer.
pub(crate) const BININT1: u8 = b'K';
/// `L`: a long as decimal text.
pub(crate) const LONG: u8 = b'L';
/// `M`: a 2-byte unsigned integer.
pub(crate) const BININT2: u8 = b'M';
/// `N`: `None`.
pub(crate) const NONE: u8 = b'N';
/// `P`: a persistent id as text.
pub(crate) const PERSID: u8 = b'P';
/// `Q`: a persistent id from the stack.
pub(crate) const BINPERSID: u8 = b'Q';
/// `R`: call a callable with an argument tuple.
pub(crate) const REDUCE: u8 = b'R';
/// `S`: a quoted byte string as text.
pub(crate) const STRING: u8 = b'S';
/// `T`: a byte string with a 4-byte length.
pub(crate) const BINSTRING: u8 = b'T';
/// `U`: a byte string with a 1-byte length.
pub(crate) const SHORT_BINSTRING: u8 = b'U';
/// `V`: a raw-unicode-escaped string as text.
pub(crate) const UNICODE: u8 = b'V';
/// `X`: a UTF-8 string with a 4-byte length.
pub(crate) const BINUNICODE: u8 = b'X';
/// `a`: append to a list.
pub(crate) const APPEND: u8 = b'a';
/// `b`: set an object's state.
pub(crate) const BUILD: u8 = b'b';
/// `c`: push a global (module and name as text lines).
pub(crate) const GLOBAL: u8 = b'c';
/// `d`: build a dict from the items above the mark.
pub(crate) const DICT: u8 = b'd';
/// `}`: an empty dict.
pub(crate) const EMPTY_DICT: u8 = b'}';
/// `e`: extend a list with the items above the mark.
pub(crate) const APPENDS: u8 = b'e';
/// `g`: push a memo entry (index as text).
pub(crate) const GET: u8 = b'g';
/// `h`: push a memo entry (1-byte index).
pub(crate) const BINGET: u8 = b'h';
/// `i`: build a class instance (module and name as text).
pub(crate) const INST: u8 = b'i';
/// `j`: push a memo entry (4-byte index).
pub(crate) const LONG_BINGET: u8 = b'j';
/// `l`: build a list from the items above the mark.
pub(crate) const LIST: u8 = b'l';
/// `]`: an empty list.
pub(crate) const EMPTY_LIST: u8 = b']';
/// `o`: build a class instance from the items above the mark.
pub(crate) const OBJ: u8 = b'o';
/// `p`: store the top of the stack in the memo (index as text).
pub(crate) const PUT: u8 = b'p';
/// `q`: store the top of the stack in the memo (1-byte index).
pub(crate) const BINPUT: u8 = b'q';
/// `r`: store the top of the stack in the memo (4-byte index).
pub(crate) const LONG_BINPUT: u8 = b'r';
/// `s`: set a dict item.
pub(crate) const SETITEM: u8 = b's';
/// `t`: build a tuple from the items above the mark.
pub(crate) const TUPLE: u8 = b't';
/// `)`: an empty tuple.
pub(crate) const EMPTY_TUPLE: u8 = b')';
/// `u`: set the dict items above the mark.
pub(crate) const SETITEMS: u8 = b'u';
/// `G`: an 8-byte big-endian float.
pub(crate) const BINFLOAT: u8 = b'G';
/// Protocol 2: the protocol version.
pub(crate) const PROTO: u8 = 0x80;
/// Protocol 2: build an object with `cls.__new__(cls, *args)`.
pub(crate) const NEWOBJ: u8 = 0x81;
/// Protocol 2: an extension code (1 byte).
pub(crate) const EXT1: u8 = 0x82;
/// Protocol 2: an extension code (2 bytes).
pub(crate) const EXT2: u8 = 0x83;
/// Protocol 2: an extension code (4 bytes).
pub(crate) const EXT4: u8 = 0x84;
/// Protocol 2: a 1-tuple of the top of the stack.
pub(crate) const TUPLE1: u8 = 0x85;
/// Protocol 2: a 2-tuple of the two topmost items.
pub(crate) const TUPLE2: u8 = 0x86;
/// Protocol 2: a 3-tuple of the three topmost items.
pub(crate) const TUPLE3: u8 = 0x87;
/// Protocol 2: `True`.
pub(crate) const NEWTRUE: u8 = 0x88;
/// Protocol 2: `False`.
pub(crate) const NEWFALSE: u8 = 0x89;
/// Protocol 2: a little-endian two's-complement integer with a 1-byte length.
pub(crate) const LONG1: u8 = 0x8a;
/// Protocol 2: a little-endian two's-complement integer with a 4-byte length.
pub(crate) const LONG4: u8 = 0x8b;
/// Protocol 3: bytes with a 4-byte length.
pub(crate) const BINBYTES: u8 = b'B';
/// Protocol 3: bytes with a 1-byte length.
pub(crate) const SHORT_BINBYTES: u8 = b'C';
/// Protocol 4: a UTF-8 string with a 1-byte length.
pub(crate) const SHORT_BINUNICODE: u8 = 0x8c;
/// Protocol 4: a UTF-8 string with an 8-byte length.
pub(crate) const BINUNICODE8: u8 = 0x8d;
/// Protocol 4: bytes with an 8-byte length.
pub(crate) const BINBYTES8: u8 = 0x8e;
/// Protocol 4: an empty set.
pub(crate) const EMPTY_SET: u8 = 0x8f;
/// Protocol 4: add the items above the mark to a set.
pub(crate) const ADDITEMS: u8 = 0x90;
/// Protocol 4: a frozenset of the items above the mark.
pub(crate) const FROZENSET: u8 = 0x91;
/// Protocol 4: `cls.__new__(cls, *args, **kwargs)`.
pub(crate) const NEWOBJ_EX: u8 = 0x92;
/// Protocol 4: push a global (module and name from the stack).
pub(crate) const STACK_GLOBAL: u8 = 0x93;
/// Protocol 4: store the top of the stack in the next memo slot.
pub(crate) const MEMOIZE: u8 = 0x94;
/// Protocol 4: a framing hint (8-byte length).
pub(crate) const FRAME: u8 = 0x95;
/// Protocol 5: a bytearray with an 8-byte length.
pub(crate) const BYTEARRAY8: u8 = 0x96;
/// Protocol 5: an out-of-band buffer.
pub(crate) const NEXT_BUFFER: u8 = 0x97;
/// Protocol 5: make the top buffer read-only.
pub(crate) const READONLY_BUFFER: u8 = 0x98;
