import os, re
import pytest
from kehu.core.tests.test_access_matrix import (  # noqa
    MATRIX, EXPECTED, _cases, expected, client_for, send, Want, world, _key_label,
)

pytestmark = pytest.mark.django_db
KEYS = os.environ.get("PROBE_KEYS", "")

def _sel():
    out = []
    for p in MATRIX:
        key, index, role = p.values
        if KEYS and not any(k in _key_label(key) for k in KEYS.split(",")):
            continue
        out.append(p)
    return out

@pytest.mark.parametrize(("key", "index", "role"), _sel())
def test_probe(world, key, index, role):
    case = _cases(EXPECTED[key])[index]
    want = expected(world, key, case, role)
    if want is not Want.ALLOWED or case.method == "GET":
        return
    client = client_for(world, role, api=not isinstance(key, str))
    r = send(client, key, case, world, role)
    if r.status_code == 400 or r.status_code >= 300 and r.status_code != 302:
        body = r.content.decode()
        errs = re.findall(r'(?:invalid-feedback[^>]*>|alert-danger[^>]*>)\s*([^<]+)', body)
        print(f"\nPROBE {_key_label(key)} [{case.label}] {role}: {r.status_code} {errs[:5] or body[:300]}")
