"""Signs a JWT with Python's cryptography, the way Google's and Snowflake's reference clients do,
for a byte-for-byte comparison with the Swift signer. Standard input: {"pem", "header", "claims"};
header and claims are serialized with sorted keys and no spaces. Prints the token, then the
public key's Snowflake fingerprint on a second line."""
import base64
import hashlib
import json
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

request = json.load(sys.stdin)
key = serialization.load_pem_private_key(request["pem"].encode(), password=None)


def part(value):
    data = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


signed = part(request["header"]) + "." + part(request["claims"])
signature = key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256())
print(signed + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode())
der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
print("SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode())
