#!/usr/bin/env python3
"""Avro test cases written by the reference implementation, fastavro, for Tests/AvroTests.

Prints one JSON document to stdout:

    {"fastavro": "1.13.1", "seed": 1, "cases": [
        {"name": ..., "schema": <writer schema, JSON text>, "avro": <hex>, "expected": <JSON text>}, ...]}

"avro" is the value as fastavro.schemaless_writer writes it (array and map blocks split by hand
where a case says so: fastavro writes one block). "expected" is the JSON DESIGN.md §3 maps the
value to, computed here from the Python value and the schema with Python's own datetime, decimal
and base64, independently of the Swift decoder. Run it through scripts/avro_fixtures.sh, which
makes the virtualenv with fastavro.

    python avro_fixtures.py [SEED]     (SEED for the random values, 1 by default)
"""

import base64
import datetime
import decimal
import io
import json
import math
import random
import struct
import sys
import uuid

import fastavro

PER_SECOND = {"millis": 1000, "micros": 1_000_000, "nanos": 1_000_000_000}
EPOCH = datetime.datetime(1970, 1, 1)
decimal.getcontext().prec = 1000  # exact arithmetic for every decimal here (the default rounds at 28 digits)


def encode(schema, value):
    """The value as fastavro writes it (schema already parsed)."""
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, value)
    return buffer.getvalue()


# --- The expected JSON, per DESIGN.md §3 ------------------------------------------------------


def float32_json(value):
    """The shortest decimal that reads back as the same float32 (as the decoder writes it)."""
    if math.isnan(value) or math.isinf(value):
        return None
    value = struct.unpack("<f", struct.pack("<f", value))[0]  # what fastavro wrote
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        try:
            if struct.unpack("<f", struct.pack("<f", float(text)))[0] == value:
                return float(text)
        except OverflowError:
            continue
    return value


def timestamp_text(value, unit, local):
    seconds, fraction = divmod(value, PER_SECOND[unit])
    try:
        moment = EPOCH + datetime.timedelta(seconds=seconds)
    except OverflowError:
        return value  # outside years 1–9999: the plain number
    digits = len(str(PER_SECOND[unit])) - 1
    text = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment:%H:%M:%S}.{fraction:0{digits}d}"
    return text if local else text + "Z"


def date_text(days):
    try:
        day = datetime.date(1970, 1, 1) + datetime.timedelta(days=days)
    except OverflowError:
        return days
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def time_text(value, unit):
    per_second = PER_SECOND[unit]
    if not 0 <= value < 86_400 * per_second:
        return value
    seconds, fraction = divmod(value, per_second)
    digits = len(str(per_second)) - 1
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{fraction:0{digits}d}"


def decimal_text(value, scale):
    unscaled = int(value.scaleb(scale))
    assert decimal.Decimal(unscaled).scaleb(-scale) == value, "the value has more digits than the scale"
    digits = str(abs(unscaled)).rjust(scale + 1, "0")
    text = digits if scale == 0 else digits[:-scale] + "." + digits[-scale:]
    return "-" + text if unscaled < 0 else text


LOGICAL = {
    ("long", "timestamp-millis"): lambda v, s: timestamp_text(v, "millis", False),
    ("long", "timestamp-micros"): lambda v, s: timestamp_text(v, "micros", False),
    ("long", "timestamp-nanos"): lambda v, s: timestamp_text(v, "nanos", False),
    ("long", "local-timestamp-millis"): lambda v, s: timestamp_text(v, "millis", True),
    ("long", "local-timestamp-micros"): lambda v, s: timestamp_text(v, "micros", True),
    ("long", "local-timestamp-nanos"): lambda v, s: timestamp_text(v, "nanos", True),
    ("int", "date"): lambda v, s: date_text(v),
    ("int", "time-millis"): lambda v, s: time_text(v, "millis"),
    ("long", "time-micros"): lambda v, s: time_text(v, "micros"),
    ("bytes", "decimal"): lambda v, s: decimal_text(v, s.get("scale", 0)),
    ("fixed", "decimal"): lambda v, s: decimal_text(v, s.get("scale", 0)),
    ("string", "uuid"): lambda v, s: str(v),
    ("fixed", "uuid"): lambda v, s: str(uuid.UUID(bytes=v)),
}


def expected(schema, value, named):
    """The JSON value of `value` written with `schema` (parsed by fastavro.parse_schema)."""
    if isinstance(schema, str):
        schema = named.get(schema, {"type": schema})
    if isinstance(schema, list):  # a union: None, or (branch name, value) in fastavro's tuple notation
        if value is None:
            return None
        name, inner = value
        for branch in schema:
            branch_type = branch if isinstance(branch, str) else branch.get("type")
            branch_name = branch["name"] if isinstance(branch, dict) and branch_type in ("record", "enum", "fixed") else branch_type
            if branch_name == name:
                return expected(branch, inner, named)
        raise ValueError(f"no branch {name} in {schema}")
    kind = schema["type"]
    convert = LOGICAL.get((kind, schema.get("logicalType")))
    if convert:
        return convert(value, schema)
    if kind == "record":
        return {field["name"]: expected(field["type"], value[field["name"]], named) for field in schema["fields"]}
    if kind == "array":
        return [expected(schema["items"], item, named) for item in value]
    if kind == "map":
        return {key: expected(schema["values"], item, named) for key, item in value.items()}
    if kind in ("bytes", "fixed"):
        return base64.b64encode(value).decode()
    if kind == "float":
        return float32_json(value)
    if kind == "double":
        return None if math.isnan(value) or math.isinf(value) else value
    return value  # null, boolean, int, long, string, enum (its symbol)


# --- Blocks: fastavro writes an array or a map as one block; these split it ---------------------


def long_bytes(value):
    return encode("long", value)


def blocked(schema, value, named, sizes, negative):
    """An array or map encoded in blocks of `sizes` items (cycled); with `negative`, each count is
    negative and followed by the block's size in bytes, as the specification allows."""
    if schema["type"] == "array":
        items = [encode_parsed(schema["items"], item, named) for item in value]
    else:
        items = [encode("string", key) + encode_parsed(schema["values"], item, named) for key, item in value.items()]
    out, start, turn = b"", 0, 0
    while start < len(items):
        count = sizes[turn % len(sizes)]
        block = b"".join(items[start : start + count])
        count = len(items[start : start + count])
        out += long_bytes(-count) + long_bytes(len(block)) + block if negative else long_bytes(count) + block
        start, turn = start + count, turn + 1
    return out + b"\x00"


def encode_parsed(schema, value, named):
    """Encodes a part of a parsed schema, its named references resolved through `named`."""
    if isinstance(schema, str) and schema in named:
        schema = named[schema]
    if isinstance(schema, (dict, list)):
        wrapper = {"type": "record", "name": "_Part", "fields": [{"name": "part", "type": schema}]}
        return encode(fastavro.parse_schema(wrapper, dict(named)), {"part": value})
    return encode(schema, value)


# --- The cases -------------------------------------------------------------------------------


class Cases:
    def __init__(self):
        self.cases = []

    def add(self, name, schema, values, decoder_schema=None, blocks=None):
        """Values written and expected with `schema`; the decoder is given `decoder_schema` (by
        default the same), which differs only by a logical type a reader must ignore.
        `blocks` = (sizes, negative, field): that array or map field (None: the root) in blocks."""
        named = {}
        parsed = fastavro.parse_schema(schema, named)
        for index, value in enumerate(values):
            if blocks is None:
                data = encode(parsed, value)
            else:
                sizes, negative, field = blocks
                if field is None:
                    data = blocked(parsed, value, named, sizes, negative)
                else:
                    data = b"".join(
                        blocked(spec["type"], value[spec["name"]], named, sizes, negative)
                        if spec["name"] == field
                        else encode_parsed(spec["type"], value[spec["name"]], named)
                        for spec in parsed["fields"]
                    )
                # fastavro reads the blocks back as the value it wrote in one block, to the last byte.
                stream = io.BytesIO(data)
                value_read = fastavro.schemaless_reader(stream, parsed, None)
                assert stream.tell() == len(data), f"{name}: fastavro does not read the blocks to the end"
                assert value_read == fastavro.schemaless_reader(io.BytesIO(encode(parsed, value)), parsed, None), f"{name}: blocks read back differently"
            text = json.dumps(expected(parsed, value, named), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            self.cases.append({"name": f"{name} #{index}", "schema": json.dumps(decoder_schema or schema), "avro": data.hex(), "expected": text})


def random_text(rng, length):
    """Code points from ASCII (control characters, quotes and backslashes included), Latin,
    CJK and beyond the BMP; never a surrogate."""
    ranges = [(0, 0x7F), (0x20, 0x7E), (0x80, 0x7FF), (0x800, 0xD7FF), (0xE000, 0xFFFF), (0x10000, 0x10FFFF)]
    return "".join(chr(rng.randint(*rng.choice(ranges))) for _ in range(length))


def random_integer(rng, bits):
    magnitude = rng.choice([4, 8, 16, bits - 1])
    return rng.randint(-(2 ** magnitude), 2 ** magnitude - 1)


def add_primitives(cases, rng):
    cases.add("null", "null", [None])
    cases.add("boolean", "boolean", [True, False])
    cases.add("int", "int", [0, 1, -1, 63, 64, -64, -65, 2**31 - 1, -(2**31)] + [random_integer(rng, 32) for _ in range(40)])
    cases.add("long", "long", [0, 1, -1, 2**31, -(2**31) - 1, 2**53 + 1, 2**63 - 1, -(2**63)] + [random_integer(rng, 64) for _ in range(40)])
    floats = [0.0, -0.0, 1.5, 0.1, -2.75, 3.4028234663852886e38, 1e-45, 1.17549435e-38, 16777217.0, float("nan"), float("inf"), float("-inf")]
    cases.add("float", "float", floats + [struct.unpack("<f", rng.randbytes(4))[0] for _ in range(60)])
    doubles = [0.0, -0.0, 0.1, 1e16, 1e-7, 123456789.123, 5e-324, 1.7976931348623157e308, 2.0**53 + 2, float("nan"), float("inf"), float("-inf")]
    cases.add("double", "double", doubles + [struct.unpack("<d", rng.randbytes(8))[0] for _ in range(60)])
    cases.add("bytes", "bytes", [b"", b"\x00", b"\xff\xfe", b"ab", b"abc", b"abcd"] + [rng.randbytes(rng.randint(0, 70)) for _ in range(20)])
    strings = ["", "hello", "日本語", "ü", "😀 emoji", "\x00\x01\x1f\x7f", '"quoted" \\ back/slash', "\u2028\u2029", "tab\tnew\nline\r\b\f"]
    cases.add("string", "string", strings + [random_text(rng, rng.randint(0, 40)) for _ in range(40)])


def add_complex(cases, rng):
    address = {"type": "record", "name": "Address", "fields": [{"name": "street", "type": "string"}, {"name": "zip", "type": ["null", "int"]}]}
    order = {
        "type": "record", "name": "Order", "namespace": "com.example.oms", "doc": "field order is kept: z before a",
        "fields": [
            {"name": "z_last_alphabetically", "type": "int", "default": 0},
            {"name": "a_first", "type": "string"},
            {"name": "shipping", "type": address},
            {"name": "billing", "type": ["null", "Address"]},
            {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID", "SHIPPED"]}},
            {"name": "tags", "type": {"type": "array", "items": "string"}},
            {"name": "attributes", "type": {"type": "map", "values": "long"}},
            {"name": "checksum", "type": {"type": "fixed", "name": "MD5", "size": 16}},
            {"name": "previous", "type": ["null", "com.example.oms.Status"]},
            {"name": "empty", "type": {"type": "record", "name": "Empty", "fields": []}},
        ],
    }
    orders = [
        {"z_last_alphabetically": 1, "a_first": "o-1", "shipping": {"street": "Main St 1", "zip": ("int", 12345)}, "billing": None,
         "status": "NEW", "tags": [], "attributes": {}, "checksum": bytes(range(16)), "previous": None, "empty": {}},
        {"z_last_alphabetically": -7, "a_first": "ö-2", "shipping": {"street": "", "zip": None},
         "billing": ("com.example.oms.Address", {"street": "Bill St", "zip": ("int", 0)}), "status": "SHIPPED",
         "tags": ["a", "b", "日本"], "attributes": {"x": 1, "ü": -2, "": 2**40}, "checksum": b"\xff" * 16,
         "previous": ("com.example.oms.Status", "PAID"), "empty": {}},
    ]
    cases.add("record", order, orders)

    nested_namespaces = {
        "type": "record", "name": "Outer", "namespace": "a.b",
        "fields": [
            {"name": "inner", "type": {"type": "record", "name": "Inner", "namespace": "c.d", "fields": [
                {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["X", "Y"]}}]}},
            {"name": "same", "type": "c.d.Kind"},
            {"name": "dotted", "type": {"type": "fixed", "name": "e.f.Two", "size": 2}},
            {"name": "again", "type": "e.f.Two"},
            {"name": "outer_space", "type": {"type": "enum", "name": "Kind", "symbols": ["OTHER"]}},
        ],
    }
    cases.add("namespaces", nested_namespaces, [{"inner": {"kind": "Y"}, "same": "X", "dotted": b"hi", "again": b"\x00\x01", "outer_space": "OTHER"}])

    cases.add("enum", {"type": "enum", "name": "Suit", "symbols": ["SPADES", "HEARTS", "DIAMONDS", "CLUBS"]}, ["SPADES", "CLUBS"])
    cases.add("fixed", {"type": "fixed", "name": "Four", "size": 4}, [b"\x00\x00\x00\x00", b"\xde\xad\xbe\xef"])
    cases.add("fixed of size 0", {"type": "fixed", "name": "Nothing", "size": 0}, [b""])
    cases.add("array", {"type": "array", "items": "int"}, [[], [1], list(range(-70, 70))])
    cases.add("array of nulls", {"type": "array", "items": "null"}, [[], [None] * 5])
    cases.add("array of arrays", {"type": "array", "items": {"type": "array", "items": "string"}}, [[[], ["a"], ["b", "c"]]])
    cases.add("map", {"type": "map", "values": "string"}, [{}, {"k": "v"}, {"日本": "語", "quote\"": "back\\slash", "": ""}])
    cases.add("map of maps", {"type": "map", "values": {"type": "map", "values": ["null", "double"]}}, [{"a": {"b": None, "c": ("double", 1.5)}}])

    items = [random_integer(rng, 64) for _ in range(50)]
    for negative in (False, True):
        label = "negative counts with sizes" if negative else "positive counts"
        cases.add(f"array in blocks, {label}", {"type": "array", "items": "long"}, [items, items[:3]], blocks=([1, 7, 2, 20], negative, None))
        entries = {f"key{index}": ("string", random_text(rng, 5)) if index % 3 else None for index in range(30)}
        cases.add(f"map in blocks, {label}", {"type": "map", "values": ["null", "string"]}, [entries], blocks=([4, 1, 9], negative, None))
        holder = {"type": "record", "name": "Holder", "fields": [
            {"name": "before", "type": "int"}, {"name": "lines", "type": {"type": "array", "items": {"type": "record", "name": "Line", "fields": [
                {"name": "sku", "type": "string"}, {"name": "qty", "type": "int"}]}}}, {"name": "after", "type": "string"}]}
        lines = [{"sku": f"sku-{index}", "qty": index} for index in range(12)]
        cases.add(f"array field in blocks, {label}", holder, [{"before": 1, "lines": lines, "after": "end"}], blocks=([5, 2], negative, "lines"))

    unions = [
        ("null first", ["null", "string"], [None, ("string", "x"), ("string", "")]),
        ("null last", ["string", "null"], [None, ("string", "y")]),
        ("several branches", ["int", "string", "boolean", {"type": "array", "items": "int"}, {"type": "map", "values": "int"}, "bytes", "double", "null"],
         [("int", -5), ("string", "s"), ("boolean", True), ("array", [1, 2]), ("map", {"a": 1}), ("bytes", b"\x01"), ("double", 2.5), None]),
        ("named branches", ["null", {"type": "record", "name": "R", "fields": [{"name": "f", "type": "int"}]},
                            {"type": "enum", "name": "E", "symbols": ["A", "B"]}, {"type": "fixed", "name": "F", "size": 3}],
         [None, ("R", {"f": 3}), ("E", "B"), ("F", b"abc")]),
        ("logical branches", ["null", {"type": "long", "logicalType": "timestamp-millis"}, {"type": "int", "logicalType": "date"}],
         [None, ("long", 1796119200250), ("int", 20788)]),
    ]
    for label, schema, values in unions:
        cases.add(f"union, {label}", schema, values)


def add_recursive(cases, rng):
    linked = {"type": "record", "name": "LongList", "fields": [{"name": "value", "type": "long"}, {"name": "next", "type": ["null", "LongList"]}]}

    def chain(length):
        node = None
        for value in range(length, 0, -1):
            node = ("LongList", {"value": value, "next": node})
        return node

    cases.add("recursive linked list", linked, [{"value": 0, "next": chain(length)} for length in (0, 1, 2, 50)])

    tree = {"type": "record", "name": "Tree", "namespace": "t", "fields": [
        {"name": "label", "type": "string"}, {"name": "left", "type": ["null", "Tree"]}, {"name": "right", "type": ["Tree", "null"]}]}

    def grow(depth):
        left = ("t.Tree", grow(depth - 1)) if depth > 1 and rng.random() < 0.8 else None
        right = ("t.Tree", grow(depth - 1)) if depth > 1 and rng.random() < 0.8 else None
        return {"label": random_text(rng, 3), "left": left, "right": right}

    cases.add("recursive tree", tree, [grow(depth) for depth in (1, 3, 6)])

    mutual = {"type": "record", "name": "Ping", "fields": [{"name": "pong", "type": ["null", {"type": "record", "name": "Pong", "fields": [
        {"name": "ping", "type": ["null", "Ping"]}, {"name": "children", "type": {"type": "array", "items": "Pong"}}]}]}]}
    cases.add("mutually recursive records", mutual, [{"pong": None}, {"pong": ("Pong", {"ping": ("Ping", {"pong": None}), "children": [{"ping": None, "children": []}]})}])

    parent = {"type": "record", "name": "Category", "fields": [{"name": "name", "type": "string"},
              {"name": "children", "type": {"type": "map", "values": "Category"}}]}
    cases.add("recursive through a map", parent, [{"name": "root", "children": {"a": {"name": "a", "children": {}}, "b": {"name": "b", "children": {
        "c": {"name": "c", "children": {}}}}}}])


def add_logical(cases, rng):
    def logical(kind, name, **attributes):
        return {"type": kind, "logicalType": name, **attributes}

    def random_decimal(precision, scale):
        digits = rng.randint(1, precision)
        unscaled = rng.randint(0, 10**digits - 1) * rng.choice([1, -1])
        return decimal.Decimal(unscaled).scaleb(-scale)

    D = decimal.Decimal
    cases.add("decimal, bytes", logical("bytes", "decimal", precision=10, scale=2),
              [D("123.45"), D("-123.45"), D("0.00"), D("-0.01"), D("0.05"), D("99999999.99"), D("-99999999.99"), D("1.5"), D("-128"), D("1.28")])
    cases.add("decimal, scale 0", logical("bytes", "decimal", precision=5),
              [D(0), D(1), D(-1), D(127), D(128), D(-128), D(-129), D(255), D(256), D(-256), D(99999), D(-99999)])
    cases.add("decimal, precision = scale", logical("bytes", "decimal", precision=4, scale=4), [D("0.1234"), D("-0.0001"), D("0.0000")])
    cases.add("decimal, large precision", logical("bytes", "decimal", precision=76, scale=20),
              [D("-" + "9" * 56 + "." + "9" * 20), D("9" * 56 + "." + "9" * 20), D("12345678901234567890.12345678901234567890"), D("-1E-20")]
              + [random_decimal(76, 20) for _ in range(30)])
    cases.add("decimal, fixed", {"type": "fixed", "name": "Money", "size": 8, "logicalType": "decimal", "precision": 18, "scale": 4},
              [D("0.0000"), D("-1.0000"), D("123456789.1234"), D("-123456789.1234"), D("99999999999999.9999")] + [random_decimal(18, 4) for _ in range(20)])
    cases.add("decimal, large fixed", {"type": "fixed", "name": "Huge", "size": 32, "logicalType": "decimal", "precision": 76, "scale": 0},
              [D("-" + "9" * 76), D("9" * 76), D(-1)] + [random_decimal(76, 0) for _ in range(20)])

    uuids = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(5)]
    cases.add("uuid, string", logical("string", "uuid"), [str(value) for value in uuids] + ["not-a-uuid-still-a-string"])
    cases.add("uuid, fixed", {"type": "fixed", "name": "Id", "size": 16, "logicalType": "uuid"}, [value.bytes for value in uuids])

    dates = [0, -1, 1, 20788, 19000, -719162, 2932896, -25567, 11016]  # 0001-01-01, 9999-12-31, 1900-01-01, 2000-02-29
    cases.add("date", logical("int", "date"), dates + [rng.randint(-719162, 2932896) for _ in range(30)])
    cases.add("date, outside years 1-9999", logical("int", "date"), [2932897, 2**31 - 1, -(2**31)])
    cases.add("time-millis", logical("int", "time-millis"), [0, 1, 37_800_250, 86_399_999, 86_400_000, -1, 2**31 - 1] + [rng.randint(0, 86_399_999) for _ in range(20)])
    cases.add("time-micros", logical("long", "time-micros"), [0, 1, 37_800_250_123, 86_399_999_999, 86_400_000_000, -1, 2**63 - 1]
              + [rng.randint(0, 86_399_999_999) for _ in range(20)])

    moments = {"millis": [0, -1, 1, 1796119200250, -62135596800000, 253402300799999, -86400001, 951782400000],
               "micros": [0, -1, 1, 1796119200250123, -62135596800000000, 253402300799999999, -123456789],
               "nanos": [0, -1, 1796119200250123456, -(2**63), 2**63 - 1]}
    for unit, values in moments.items():
        limit = 253402300799 * PER_SECOND[unit]
        randoms = [rng.randint(max(-62135596800 * PER_SECOND[unit], -(2**63)), min(limit, 2**63 - 1)) for _ in range(20)]
        for prefix in ("", "local-"):
            cases.add(f"{prefix}timestamp-{unit}", logical("long", f"{prefix}timestamp-{unit}"), values + randoms)
    cases.add("timestamp-millis, outside years 1-9999", logical("long", "timestamp-millis"), [253402300800000, 2**63 - 1, -(2**63), -62135596800001])

    # A reader ignores unknown logical types and invalid ones, and reads the underlying type.
    # The decoder is given the schema with the logical type, fastavro the one without.
    ignored = [
        ("unknown", logical("string", "made-up"), ["text"]),
        ("date on a string", logical("string", "date"), ["2026-01-01"]),
        ("timestamp-millis on an int", logical("int", "timestamp-millis"), [12]),
        ("time-micros on an int", logical("int", "time-micros"), [12]),
        ("duration on a fixed", {"type": "fixed", "name": "Duration", "size": 12, "logicalType": "duration"}, [bytes(range(12))]),
        ("decimal with scale > precision", logical("bytes", "decimal", precision=2, scale=5), [b"\x01\x02"]),
        ("decimal without precision", logical("bytes", "decimal"), [b"\x7f"]),
        ("decimal with precision 0", logical("bytes", "decimal", precision=0), [b"\x7f"]),
        ("decimal with a negative scale", logical("bytes", "decimal", precision=4, scale=-1), [b"\x7f"]),
        ("decimal too precise for its fixed", {"type": "fixed", "name": "Small", "size": 2, "logicalType": "decimal", "precision": 5}, [b"\x80\x00"]),
        ("uuid on a fixed of 15", {"type": "fixed", "name": "Short", "size": 15, "logicalType": "uuid"}, [bytes(15)]),
    ]
    for label, schema, values in ignored:
        underlying = {key: value for key, value in schema.items() if key not in ("logicalType", "precision", "scale")}
        cases.add(f"ignored logical type: {label}", underlying, values, decoder_schema=schema)


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    rng = random.Random(seed)
    cases = Cases()
    add_primitives(cases, rng)
    add_complex(cases, rng)
    add_recursive(cases, rng)
    add_logical(cases, rng)
    json.dump({"fastavro": fastavro.__version__, "seed": seed, "cases": cases.cases}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
