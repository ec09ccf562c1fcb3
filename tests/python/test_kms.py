"""KMS end to end: boto3, the AWS CLI, the AWS Encryption SDK and openssl against Rampart."""

import base64
import datetime
import hashlib
import hmac
import json
import subprocess
import uuid

import boto3
import botocore.config
import botocore.exceptions
import botocore.session
import pytest

from conftest import ACCESS_KEY_ID, ACCOUNT_ID, SECRET_ACCESS_KEY, Rampart


@pytest.fixture(scope="module")
def kms(rampart):
    return rampart.client("kms")


def error_code(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]["Code"]


def new_key(kms, **kwargs):
    return kms.create_key(**kwargs)["KeyMetadata"]


def test_key_lifecycle(kms):
    meta = new_key(kms, Description="lifecycle", Tags=[{"TagKey": "team", "TagValue": "a"}])
    key_id = meta["KeyId"]
    assert meta["Arn"] == f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/{key_id}"
    assert meta["KeyState"] == "Enabled" and meta["Enabled"] is True
    assert meta["KeySpec"] == "SYMMETRIC_DEFAULT" and meta["KeyManager"] == "CUSTOMER"
    keys = [k["KeyId"] for k in kms.get_paginator("list_keys").paginate().build_full_result()["Keys"]]
    assert key_id in keys
    kms.update_key_description(KeyId=key_id, Description="changed")
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "changed"
    kms.disable_key(KeyId=key_id)
    assert error_code(lambda: kms.encrypt(KeyId=key_id, Plaintext=b"x")) == "DisabledException"
    kms.enable_key(KeyId=key_id)
    out = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert out["KeyState"] == "PendingDeletion" and out["PendingWindowInDays"] == 7
    assert error_code(lambda: kms.encrypt(KeyId=key_id, Plaintext=b"x")) == "KMSInvalidStateException"
    kms.cancel_key_deletion(KeyId=key_id)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"
    assert error_code(lambda: kms.describe_key(KeyId=str(uuid.uuid4()))) == "NotFoundException"


def test_aliases_tags_and_policies(kms):
    key_id = new_key(kms)["KeyId"]
    name = f"alias/app-{uuid.uuid4().hex[:8]}"
    kms.create_alias(AliasName=name, TargetKeyId=key_id)
    assert error_code(lambda: kms.create_alias(AliasName=name, TargetKeyId=key_id)) == "AlreadyExistsException"
    assert error_code(lambda: kms.create_alias(AliasName="alias/aws/mine", TargetKeyId=key_id)) == "InvalidAliasNameException"
    alias_arn = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:{name}"
    for ref in (name, alias_arn):
        assert kms.describe_key(KeyId=ref)["KeyMetadata"]["KeyId"] == key_id
    aliases = kms.list_aliases(KeyId=key_id)["Aliases"]
    assert [a["AliasName"] for a in aliases] == [name]
    other = new_key(kms)["KeyId"]
    kms.update_alias(AliasName=name, TargetKeyId=other)
    assert kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == other
    kms.delete_alias(AliasName=name)
    assert error_code(lambda: kms.describe_key(KeyId=name)) == "NotFoundException"

    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "a", "TagValue": "1"}, {"TagKey": "b", "TagValue": "2"}])
    kms.untag_resource(KeyId=key_id, TagKeys=["a"])
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == [{"TagKey": "b", "TagValue": "2"}]

    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert policy["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
    assert kms.list_key_policies(KeyId=key_id)["PolicyNames"] == ["default"]
    assert error_code(lambda: kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy="{nope")) == "MalformedPolicyDocumentException"


def test_encrypt_decrypt_reencrypt_and_data_keys(kms):
    key_id = new_key(kms)["KeyId"]
    ctx = {"purpose": "e2e"}
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"secret", EncryptionContext=ctx)["CiphertextBlob"]
    out = kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)
    assert out["Plaintext"] == b"secret" and out["KeyId"].endswith(key_id)
    assert error_code(lambda: kms.decrypt(CiphertextBlob=blob)) == "InvalidCiphertextException"
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    assert error_code(lambda: kms.decrypt(CiphertextBlob=tampered, EncryptionContext=ctx)) == "InvalidCiphertextException"
    other = new_key(kms)["KeyId"]
    assert error_code(lambda: kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx, KeyId=other)) == "IncorrectKeyException"
    re = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext=ctx, DestinationKeyId=other)
    assert kms.decrypt(CiphertextBlob=re["CiphertextBlob"])["Plaintext"] == b"secret"
    assert error_code(lambda: kms.encrypt(KeyId=key_id, Plaintext=b"x" * 4097)) == "ValidationException"
    dk = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=ctx)
    assert len(dk["Plaintext"]) == 32
    assert kms.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext=ctx)["Plaintext"] == dk["Plaintext"]
    assert "Plaintext" not in kms.generate_data_key_without_plaintext(KeyId=key_id, NumberOfBytes=64)
    assert len(kms.generate_random(NumberOfBytes=1024)["Plaintext"]) == 1024


def test_aws_cli_encrypt_decrypt_round_trip(rampart, kms, tmp_path):
    key_id = new_key(kms)["KeyId"]
    alias = f"alias/cli-{uuid.uuid4().hex[:8]}"
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    (tmp_path / "plain.txt").write_bytes(b"hello from the CLI\n")
    enc = rampart.aws("kms", "encrypt", "--key-id", alias, "--plaintext", f"fileb://{tmp_path / 'plain.txt'}",
                      "--encryption-context", "stage=test", "--output", "text", "--query", "CiphertextBlob")
    assert enc.returncode == 0, enc.stderr
    (tmp_path / "blob").write_bytes(base64.b64decode(enc.stdout.strip()))
    dec = rampart.aws("kms", "decrypt", "--ciphertext-blob", f"fileb://{tmp_path / 'blob'}",
                      "--encryption-context", "stage=test", "--output", "text", "--query", "Plaintext")
    assert dec.returncode == 0, dec.stderr
    assert base64.b64decode(dec.stdout.strip()) == b"hello from the CLI\n"


def test_encryption_sdk_envelope_encryption(rampart, kms, monkeypatch):
    aws_encryption_sdk = pytest.importorskip("aws_encryption_sdk")
    key_arn = new_key(kms)["Arn"]
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", rampart.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    client = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=aws_encryption_sdk.CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )
    provider = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(
        key_ids=[key_arn], botocore_session=botocore.session.Session()
    )
    plaintext = b"envelope " * 1000
    context = {"tenant": "acme", "purpose": "e2e"}
    ciphertext, header = client.encrypt(source=plaintext, encryption_context=context, key_provider=provider)
    assert ciphertext != plaintext
    decrypted, dec_header = client.decrypt(source=ciphertext, key_provider=provider)
    assert decrypted == plaintext
    for k, v in context.items():
        assert dec_header.encryption_context[k] == v


@pytest.mark.parametrize("spec,alg,openssl_args", [
    ("ECC_NIST_P256", "ECDSA_SHA_256", ["-sha256"]),
    ("RSA_2048", "RSASSA_PSS_SHA_256",
     ["-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:-1"]),
])
def test_openssl_verifies_signatures(kms, tmp_path, spec, alg, openssl_args):
    key_id = new_key(kms, KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyId"]
    message = b"signed by rampart"
    sig = kms.sign(KeyId=key_id, Message=message, SigningAlgorithm=alg, MessageType="RAW")["Signature"]
    assert kms.verify(KeyId=key_id, Message=message, Signature=sig, SigningAlgorithm=alg)["SignatureValid"]
    assert error_code(lambda: kms.verify(KeyId=key_id, Message=b"other", Signature=sig,
                                         SigningAlgorithm=alg)) == "KMSInvalidSignatureException"
    public = kms.get_public_key(KeyId=key_id)
    assert alg in public["SigningAlgorithms"]
    (tmp_path / "pub.der").write_bytes(public["PublicKey"])
    (tmp_path / "msg").write_bytes(message)
    (tmp_path / "sig").write_bytes(sig)
    subprocess.run(["openssl", "pkey", "-pubin", "-inform", "DER", "-in", str(tmp_path / "pub.der"),
                    "-out", str(tmp_path / "pub.pem")], check=True)
    result = subprocess.run(["openssl", "dgst", *openssl_args, "-verify", str(tmp_path / "pub.pem"),
                             "-signature", str(tmp_path / "sig"), str(tmp_path / "msg")],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "Verified OK" in result.stdout, result.stdout + result.stderr


def test_rsa_encryption_hmac_and_data_key_pairs(kms):
    rsa = new_key(kms, KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyId"]
    blob = kms.encrypt(KeyId=rsa, Plaintext=b"hi", EncryptionAlgorithm="RSAES_OAEP_SHA_256")["CiphertextBlob"]
    assert kms.decrypt(KeyId=rsa, CiphertextBlob=blob, EncryptionAlgorithm="RSAES_OAEP_SHA_256")["Plaintext"] == b"hi"
    hmac_key = new_key(kms, KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyId"]
    mac = kms.generate_mac(KeyId=hmac_key, Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert kms.verify_mac(KeyId=hmac_key, Message=b"m", Mac=mac, MacAlgorithm="HMAC_SHA_256")["MacValid"]
    assert error_code(lambda: kms.verify_mac(KeyId=hmac_key, Message=b"n", Mac=mac,
                                             MacAlgorithm="HMAC_SHA_256")) == "KMSInvalidMacException"
    sym = new_key(kms)["KeyId"]
    pair = kms.generate_data_key_pair(KeyId=sym, KeyPairSpec="ECC_NIST_P384")
    assert kms.decrypt(CiphertextBlob=pair["PrivateKeyCiphertextBlob"])["Plaintext"] == pair["PrivateKeyPlaintext"]
    assert "PrivateKeyPlaintext" not in kms.generate_data_key_pair_without_plaintext(KeyId=sym, KeyPairSpec="RSA_2048")
    assert error_code(lambda: kms.get_public_key(KeyId=sym)) == "UnsupportedOperationException"


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def wrap_for_import(kms, tmp_path, key_id, material, algorithm):
    """Wraps `material` for `key_id` with openssl, as AWS's guide does; returns the token too."""
    params = kms.get_parameters_for_import(KeyId=key_id, WrappingAlgorithm=algorithm, WrappingKeySpec="RSA_3072")
    assert params["KeyId"].endswith(key_id)
    (tmp_path / "wrapping.der").write_bytes(params["PublicKey"])
    (tmp_path / "material.bin").write_bytes(material)
    digest = "sha256" if algorithm.endswith("SHA_256") else "sha1"
    oaep = ["pkeyutl", "-encrypt", "-pubin", "-keyform", "DER", "-inkey", str(tmp_path / "wrapping.der"),
            "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", f"rsa_oaep_md:{digest}",
            "-pkeyopt", f"rsa_mgf1_md:{digest}"]
    if algorithm.startswith("RSAES_OAEP"):
        openssl(*oaep, "-in", str(tmp_path / "material.bin"), "-out", str(tmp_path / "wrapped.bin"))
        return params["ImportToken"], (tmp_path / "wrapped.bin").read_bytes()
    # RSA_AES_KEY_WRAP: an ephemeral AES-256 key under RSA-OAEP, the material under it (RFC 5649).
    aes = subprocess.run(["openssl", "rand", "-hex", "32"], check=True, capture_output=True, text=True).stdout.strip()
    (tmp_path / "aes.bin").write_bytes(bytes.fromhex(aes))
    openssl("enc", "-id-aes256-wrap-pad", "-K", aes, "-iv", "A65959A6",
            "-in", str(tmp_path / "material.bin"), "-out", str(tmp_path / "material.wrapped"))
    openssl(*oaep, "-in", str(tmp_path / "aes.bin"), "-out", str(tmp_path / "aes.wrapped"))
    return params["ImportToken"], (tmp_path / "aes.wrapped").read_bytes() + (tmp_path / "material.wrapped").read_bytes()


def test_imported_symmetric_material_lifecycle(kms, tmp_path):
    key = new_key(kms, Origin="EXTERNAL", Description="imported")
    key_id = key["KeyId"]
    assert key["Origin"] == "EXTERNAL" and key["KeyState"] == "PendingImport" and key["Enabled"] is False
    assert error_code(lambda: kms.encrypt(KeyId=key_id, Plaintext=b"x")) == "KMSInvalidStateException"
    material = bytes(range(32))
    token, wrapped = wrap_for_import(kms, tmp_path, key_id, material, "RSAES_OAEP_SHA_256")
    valid_to = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)
    out = kms.import_key_material(KeyId=key_id, ImportToken=token, EncryptedKeyMaterial=wrapped,
                                  ExpirationModel="KEY_MATERIAL_EXPIRES", ValidTo=valid_to)
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert meta["KeyState"] == "Enabled" and meta["ExpirationModel"] == "KEY_MATERIAL_EXPIRES"
    assert abs((meta["ValidTo"] - valid_to).total_seconds()) < 1
    assert meta["CurrentKeyMaterialId"] == out["KeyMaterialId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"kept outside")["CiphertextBlob"]

    # Other material never replaces it; the same material, after deletion, brings the key back.
    token, other = wrap_for_import(kms, tmp_path, key_id, bytes(32), "RSAES_OAEP_SHA_1")
    assert error_code(lambda: kms.import_key_material(
        KeyId=key_id, ImportToken=token, EncryptedKeyMaterial=other,
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")) == "IncorrectKeyMaterialException"
    kms.delete_imported_key_material(KeyId=key_id)
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert meta["KeyState"] == "PendingImport" and "ExpirationModel" not in meta
    assert error_code(lambda: kms.decrypt(CiphertextBlob=blob)) == "KMSInvalidStateException"
    token, wrapped = wrap_for_import(kms, tmp_path, key_id, material, "RSA_AES_KEY_WRAP_SHA_256")
    kms.import_key_material(KeyId=key_id, ImportToken=token, EncryptedKeyMaterial=wrapped,
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"kept outside"
    assert "ValidTo" not in kms.describe_key(KeyId=key_id)["KeyMetadata"]
    [listed] = kms.list_key_rotations(KeyId=key_id, IncludeKeyMaterial="ALL_KEY_MATERIAL")["Rotations"]
    assert (listed["KeyMaterialId"], listed["ImportState"], listed["KeyMaterialState"]) == \
        (out["KeyMaterialId"], "IMPORTED", "CURRENT")
    assert error_code(lambda: kms.enable_key_rotation(KeyId=key_id)) == "UnsupportedOperationException"
    native = new_key(kms)["KeyId"]
    assert error_code(lambda: kms.get_parameters_for_import(
        KeyId=native, WrappingAlgorithm="RSAES_OAEP_SHA_256",
        WrappingKeySpec="RSA_2048")) == "UnsupportedOperationException"


def test_imported_hmac_and_rsa_material_is_what_kms_uses(kms, tmp_path):
    hmac_key = new_key(kms, Origin="EXTERNAL", KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyId"]
    secret = b"an HMAC key of forty bytes, imported..."[:40]
    token, wrapped = wrap_for_import(kms, tmp_path, hmac_key, secret, "RSAES_OAEP_SHA_256")
    kms.import_key_material(KeyId=hmac_key, ImportToken=token, EncryptedKeyMaterial=wrapped,
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    mac = kms.generate_mac(KeyId=hmac_key, Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert mac == hmac.new(secret, b"m", hashlib.sha256).digest()

    rsa = new_key(kms, Origin="EXTERNAL", KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyId"]
    # KMS takes a private key as PKCS #8 DER (genpkey's DER is PKCS #1), as AWS's guide converts it.
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(tmp_path / "private.pem"))
    openssl("pkcs8", "-topk8", "-nocrypt", "-outform", "DER", "-in", str(tmp_path / "private.pem"),
            "-out", str(tmp_path / "private.der"))
    token, wrapped = wrap_for_import(kms, tmp_path, rsa, (tmp_path / "private.der").read_bytes(),
                                     "RSA_AES_KEY_WRAP_SHA_1")
    kms.import_key_material(KeyId=rsa, ImportToken=token, EncryptedKeyMaterial=wrapped,
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    message = b"signed with an imported key"
    sig = kms.sign(KeyId=rsa, Message=message, SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256")["Signature"]
    (tmp_path / "msg").write_bytes(message)
    (tmp_path / "sig").write_bytes(sig)
    openssl("pkey", "-inform", "DER", "-in", str(tmp_path / "private.der"), "-pubout", "-out", str(tmp_path / "pub.pem"))
    result = subprocess.run(["openssl", "dgst", "-sha256", "-verify", str(tmp_path / "pub.pem"),
                             "-signature", str(tmp_path / "sig"), str(tmp_path / "msg")],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "Verified OK" in result.stdout, result.stdout + result.stderr


def test_key_last_usage_is_the_last_successful_operation_and_its_trail_event(rampart, kms):
    key_id = new_key(kms)["KeyId"]
    fresh = kms.get_key_last_usage(KeyId=key_id)
    assert "KeyLastUsage" not in fresh and fresh["KeyId"] == key_id
    assert fresh["TrackingStartDate"] == fresh["KeyCreationDate"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    decrypted = kms.decrypt(CiphertextBlob=blob)
    kms.describe_key(KeyId=key_id)  # not a cryptographic operation
    assert error_code(lambda: kms.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "b"})) == \
        "InvalidCiphertextException"  # a failure is no use
    last = kms.get_key_last_usage(KeyId=key_id)["KeyLastUsage"]
    assert last["Operation"] == "Decrypt"
    assert last["KmsRequestId"] == decrypted["ResponseMetadata"]["RequestId"]
    events = rampart.client("cloudtrail").lookup_events(LookupAttributes=[
        {"AttributeKey": "EventId", "AttributeValue": last["CloudTrailEventId"]}])["Events"]
    assert [e["EventName"] for e in events] == ["Decrypt"]
    alias = f"alias/last-use-{uuid.uuid4().hex[:8]}"
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    assert error_code(lambda: kms.get_key_last_usage(KeyId=alias)) == "ValidationException"


def test_derive_shared_secret_agrees_with_the_peer(kms):
    """ECDH with a KEY_AGREEMENT key: KMS and a peer holding its own key pair (the
    cryptography package) derive the same shared secret."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = new_key(kms, KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")
    assert key["KeyAgreementAlgorithms"] == ["ECDH"]
    kms_public = serialization.load_der_public_key(kms.get_public_key(KeyId=key["KeyId"])["PublicKey"])
    peer = ec.generate_private_key(ec.SECP256R1())
    peer_der = peer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    out = kms.derive_shared_secret(KeyId=key["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=peer_der)
    assert out["SharedSecret"] == peer.exchange(ec.ECDH(), kms_public)
    assert (out["KeyAgreementAlgorithm"], out["KeyOrigin"]) == ("ECDH", "AWS_KMS")
    assert error_code(lambda: kms.sign(KeyId=key["KeyId"], Message=b"m",
                                       SigningAlgorithm="ECDSA_SHA_256")) == "InvalidKeyUsageException"
    assert kms.get_key_last_usage(KeyId=key["KeyId"])["KeyLastUsage"]["Operation"] == "DeriveSharedSecret"


def test_multi_region_keys_share_material_across_regions(rampart, kms):
    """A multi-Region key replicated to another region: a ciphertext of either decrypts in
    the other, rotation is the primary's and reaches the replica, and the primary role moves."""
    west = boto3.client("kms", endpoint_url=rampart.endpoint, region_name="eu-west-1",
                        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY)
    primary = new_key(kms, MultiRegion=True, Description="everywhere")
    key_id = primary["KeyId"]
    assert key_id.startswith("mrk-") and len(key_id) == 36 and primary["MultiRegion"] is True
    assert primary["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
    out = kms.replicate_key(KeyId=key_id, ReplicaRegion="eu-west-1", Description="replica",
                            Tags=[{"TagKey": "site", "TagValue": "west"}])
    replica = out["ReplicaKeyMetadata"]
    assert replica["Arn"] == f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/{key_id}"
    assert replica["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    assert out["ReplicaTags"] == [{"TagKey": "site", "TagValue": "west"}]
    assert error_code(lambda: kms.replicate_key(KeyId=key_id, ReplicaRegion="eu-west-1")) == \
        "AlreadyExistsException"
    config = kms.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"]
    assert [r["Region"] for r in config["ReplicaKeys"]] == ["eu-west-1"]
    assert west.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "replica"

    east_blob = kms.encrypt(KeyId=key_id, Plaintext=b"from the east")["CiphertextBlob"]
    assert west.decrypt(CiphertextBlob=east_blob)["Plaintext"] == b"from the east"
    west_blob = west.encrypt(KeyId=key_id, Plaintext=b"from the west")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=west_blob)["Plaintext"] == b"from the west"

    # Rotation is the primary's; the replica follows.
    assert error_code(lambda: west.enable_key_rotation(KeyId=key_id)) == "UnsupportedOperationException"
    kms.enable_key_rotation(KeyId=key_id)
    assert west.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    kms.rotate_key_on_demand(KeyId=key_id)
    rotated = kms.encrypt(KeyId=key_id, Plaintext=b"new material")["CiphertextBlob"]
    assert west.decrypt(CiphertextBlob=rotated)["Plaintext"] == b"new material"

    # The primary role moves; the old primary is a replica now.
    kms.update_primary_region(KeyId=key_id, PrimaryRegion="eu-west-1")
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"][
        "MultiRegionKeyType"] == "REPLICA"
    assert west.describe_key(KeyId=key_id)["KeyMetadata"]["MultiRegionConfiguration"][
        "PrimaryKey"]["Region"] == "eu-west-1"
    assert error_code(lambda: kms.replicate_key(KeyId=key_id, ReplicaRegion="ap-south-1")) == \
        "UnsupportedOperationException"
    # The primary waits for its replica: no deletion date until the replica is deleted.
    waiting = west.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert waiting["KeyState"] == "PendingReplicaDeletion" and "DeletionDate" not in waiting
    assert error_code(lambda: west.encrypt(KeyId=key_id, Plaintext=b"x")) == "KMSInvalidStateException"
    assert kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)["KeyState"] == "PendingDeletion"
    assert error_code(lambda: kms.replicate_key(KeyId=new_key(kms)["KeyId"], ReplicaRegion="eu-west-1")) == \
        "UnsupportedOperationException"


def test_grants_and_rotation(kms):
    key_id = new_key(kms)["KeyId"]
    grantee = f"arn:aws:iam::{ACCOUNT_ID}:user/someone"
    grant = kms.create_grant(KeyId=key_id, GranteePrincipal=grantee, RetiringPrincipal=grantee,
                             Operations=["Encrypt", "Decrypt"],
                             Constraints={"EncryptionContextSubset": {"app": "x"}})
    kms.encrypt(KeyId=key_id, Plaintext=b"x", GrantTokens=[grant["GrantToken"]])
    assert error_code(lambda: kms.encrypt(KeyId=key_id, Plaintext=b"x", GrantTokens=["forged"])) == "InvalidGrantTokenException"
    grants = kms.list_grants(KeyId=key_id)["Grants"]
    assert [g["GrantId"] for g in grants] == [grant["GrantId"]]
    assert grants[0]["Constraints"] == {"EncryptionContextSubset": {"app": "x"}}
    assert kms.list_retirable_grants(RetiringPrincipal=grantee)["Grants"][0]["GrantId"] == grant["GrantId"]
    kms.revoke_grant(KeyId=key_id, GrantId=grant["GrantId"])
    assert kms.list_grants(KeyId=key_id)["Grants"] == []

    old = kms.encrypt(KeyId=key_id, Plaintext=b"before")["CiphertextBlob"]
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=180)
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert status["KeyRotationEnabled"] and status["RotationPeriodInDays"] == 180
    kms.rotate_key_on_demand(KeyId=key_id)
    rotations = kms.list_key_rotations(KeyId=key_id)["Rotations"]
    assert [r["RotationType"] for r in rotations] == ["ON_DEMAND"]
    new = kms.encrypt(KeyId=key_id, Plaintext=b"after")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=old)["Plaintext"] == b"before"
    assert kms.decrypt(CiphertextBlob=new)["Plaintext"] == b"after"
    kms.disable_key_rotation(KeyId=key_id)
    assert not kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]


@pytest.fixture
def user(rampart):
    iam = rampart.client("iam")
    name = f"kms-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]

    class User:
        arn = f"arn:aws:iam::{ACCOUNT_ID}:user/{name}"
        kms = rampart.client("kms", key=key["AccessKeyId"], secret=key["SecretAccessKey"])

    User.name = name
    return User


def is_denied(call):
    return error_code(call) == "AccessDeniedException"


def test_a_user_without_permission_is_denied(kms, user):
    key_id = new_key(kms)["KeyId"]
    assert is_denied(lambda: user.kms.encrypt(KeyId=key_id, Plaintext=b"x"))


def test_a_key_policy_statement_allows_a_user_directly(kms, user):
    key_id = new_key(kms)["KeyId"]
    assert is_denied(lambda: user.kms.encrypt(KeyId=key_id, Plaintext=b"x"))
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "user", "Effect": "Allow", "Principal": {"AWS": user.arn},
             "Action": "kms:Encrypt", "Resource": "*"},
        ],
    }))
    user.kms.encrypt(KeyId=key_id, Plaintext=b"x")
    assert is_denied(lambda: user.kms.describe_key(KeyId=key_id))


def test_a_key_policy_without_the_account_denies_iam_allowed_users(rampart, kms, user):
    rampart.client("iam").put_user_policy(UserName=user.name, PolicyName="kms", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}))
    key_id = new_key(kms, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
                       "Action": "kms:*", "Resource": "*"}]}))["KeyId"]
    user.kms.encrypt(KeyId=key_id, Plaintext=b"x")
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/nobody"},
                       "Action": "kms:*", "Resource": "*"}]}), BypassPolicyLockoutSafetyCheck=True)
    assert is_denied(lambda: user.kms.encrypt(KeyId=key_id, Plaintext=b"x"))


def test_a_grant_allows_a_user_under_its_constraints(kms, user):
    key_id = new_key(kms)["KeyId"]
    assert is_denied(lambda: user.kms.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionContext={"app": "x"}))
    grant = kms.create_grant(KeyId=key_id, GranteePrincipal=user.arn, Operations=["Encrypt", "Decrypt"],
                             Constraints={"EncryptionContextEquals": {"app": "x"}})
    blob = user.kms.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionContext={"app": "x"},
                            GrantTokens=[grant["GrantToken"]])["CiphertextBlob"]
    assert user.kms.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "x"})["Plaintext"] == b"x"
    assert is_denied(lambda: user.kms.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionContext={"app": "y"}))
    assert is_denied(lambda: user.kms.encrypt(KeyId=key_id, Plaintext=b"x"))
    kms.revoke_grant(KeyId=key_id, GrantId=grant["GrantId"])
    assert is_denied(lambda: user.kms.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionContext={"app": "x"}))


@pytest.fixture
def throttled_rampart(tmp_path, monkeypatch):
    monkeypatch.setenv("RAMPART_KMS_SYMMETRIC_RPS", "5")
    server = Rampart(tmp_path)
    yield server
    server.stop()


def test_request_quota_throttles_and_a_retry_succeeds(throttled_rampart):
    no_retry = boto3.client(
        "kms", endpoint_url=throttled_rampart.endpoint, region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY,
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
    )
    key_id = no_retry.create_key()["KeyMetadata"]["KeyId"]
    codes = []
    for _ in range(20):
        try:
            no_retry.generate_random(NumberOfBytes=8)
        except botocore.exceptions.ClientError as e:
            codes.append(e.response["Error"]["Code"])
    assert "ThrottlingException" in codes
    retrying = boto3.client(
        "kms", endpoint_url=throttled_rampart.endpoint, region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY,
        config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 10}),
    )
    for _ in range(10):
        retrying.encrypt(KeyId=key_id, Plaintext=b"x")
