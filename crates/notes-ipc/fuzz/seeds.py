"""Writes seed corpora for the pickle fuzz targets: every allow-listed type in protocols
2 to 5 (corpus/pickle) and JSON in the marker form (corpus/pickle_json).

    python3 seeds.py && cargo +nightly fuzz run -O pickle corpus/pickle
"""
import collections, datetime, decimal, hashlib, json, os, pickle
from datetime import timedelta, timezone

import numpy as np

values = [
    datetime.datetime(2024, 10, 19, 8, 35, 12, 975783),
    datetime.datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=2), 'X')),
    datetime.datetime(2024, 11, 3, 1, 30, fold=1),
    datetime.date(2024, 2, 29), datetime.time(1, 2, 3, 4, tzinfo=timezone.utc),
    timedelta(days=-1, seconds=5), decimal.Decimal('1.10'), complex(1, 2),
    collections.OrderedDict(a=1), collections.defaultdict(list, {'a': [1]}),
    collections.Counter('abracadabra'), collections.deque([1, 2], maxlen=3),
    np.arange(6, dtype='>i4').reshape(2, 3), np.asfortranarray(np.ones((2, 2))),
    np.float32(0.5), np.array([True]), np.array([1 + 2j], dtype='c8'), np.float16(0.1),
    {1: 'a', '1': 'c'}, [b'', bytearray(b'x'), {1, 2}, frozenset()], 2**100,
]
json_seeds = [
    '{"$tuple": [1, 2]}', '{"$dict": [[1, "a"], ["1", "c"]]}', '{"$float": "nan"}',
    '{"$datetime": "2024-10-19T08:35:12.975783+02:00"}', '{"$datetime": {"iso": "2024-01-01T00:00:00+01:00", "tzname": "CET", "fold": 1}}',
    '{"$time": "01:02:03"}', '{"$date": "2024-02-29"}', '{"$timedelta": [-1, 5, 0]}', '{"$timezone": ["+05:30", "IST"]}',
    '{"$decimal": "1.10"}', '{"$complex": [1.0, {"$float": "inf"}]}', '{"$deque": [[1, 2], 3]}',
    '{"$defaultdict": ["list", [["a", [1]]]]}', '{"$Counter": [["a", 5]]}', '{"$OrderedDict": [["b", 1]]}',
    '{"$ndarray": {"dtype": ">f4", "shape": [2, 2], "order": "F", "values": [[1.5, 2], [3, 4]]}}',
    '{"$npscalar": {"dtype": "<c16", "value": [1.0, 2.0]}}', '{"$set": [1, "a"]}', '{"$bytes": "00ff"}',
    '[123456789012345678901234567890, -0.0, 1e300, {"a": {"$bytearray": "61"}}]',
]
here = os.path.dirname(os.path.abspath(__file__))
for name, blobs in [
    ('pickle', [pickle.dumps(v, protocol=p) for v in values for p in range(2, 6)]),
    ('pickle_json', [s.encode() for s in json_seeds]),
]:
    out = os.path.join(here, 'corpus', name)
    os.makedirs(out, exist_ok=True)
    for blob in blobs:
        with open(os.path.join(out, hashlib.sha1(blob).hexdigest()[:16]), 'wb') as f:
            f.write(blob)
