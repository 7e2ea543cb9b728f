"""The TLS material docker-compose.yml's broker is given: a broker certificate the CA signed, for
every name it is reached by, which a client trusting only the CA accepts."""

import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from tools import tls


def test_the_broker_certificate_is_signed_by_the_ca_for_every_name_and_its_key_is_not_world_readable(tmp_path: Path) -> None:
    made = tls.create(tmp_path, ["kafka", "localhost", "127.0.0.1"])
    assert {path.name for path in made} == {"ca.pem", "broker.pem"}
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.pem").read_bytes())
    chain = x509.load_pem_x509_certificates((tmp_path / "broker.pem").read_bytes())
    broker = chain[0]
    ca.public_key().verify(broker.signature, broker.tbs_certificate_bytes, ec.ECDSA(broker.signature_hash_algorithm))
    names = broker.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) == {"kafka", "localhost"}
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert (tmp_path / "broker.pem").stat().st_mode & 0o007 == 0
    ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(tmp_path / "broker.pem")  # key and chain in the one file
    context = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))  # what a client trusting the CA loads
    assert context.cert_store_stats()["x509_ca"] == 1


def test_existing_material_is_left_alone(tmp_path: Path) -> None:
    tls.create(tmp_path, ["kafka"])
    before = (tmp_path / "broker.pem").read_bytes()
    assert tls.create(tmp_path, ["kafka"]) == [] and (tmp_path / "broker.pem").read_bytes() == before
