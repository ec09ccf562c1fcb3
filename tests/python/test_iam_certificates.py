"""IAM certificates and service credentials end to end through boto3 against a real rampart
process: SSH public keys, signing certificates (and the credential report's cert columns),
server certificates, service-specific credentials and service-linked roles, with keys and
certificates generated here by the `cryptography` package."""

import base64
import csv
import datetime
import hashlib
import io
import time

import botocore.exceptions
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID


def error_of(call, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call(*args, **kwargs)
    return info.value.response["Error"]


@pytest.fixture(scope="module")
def iam(rampart):
    return rampart.client("iam")


def rsa_key(bits=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def openssh(key):
    return key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()


def spki_pem(key):
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def md5_fingerprint(openssh_line):
    blob = base64.b64decode(openssh_line.split()[1])
    digest = hashlib.md5(blob).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 32, 2))


def certificate(key, name="rampart-test"):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_ssh_public_keys(iam):
    iam.create_user(UserName="ssh-user")
    key = rsa_key()
    line = openssh(key) + " ssh-user@example"
    uploaded = iam.upload_ssh_public_key(UserName="ssh-user", SSHPublicKeyBody=line)["SSHPublicKey"]
    key_id = uploaded["SSHPublicKeyId"]
    assert key_id.startswith("APKA") and len(key_id) == 20
    assert uploaded["Fingerprint"] == md5_fingerprint(line)
    assert uploaded["Status"] == "Active"

    as_ssh = iam.get_ssh_public_key(UserName="ssh-user", SSHPublicKeyId=key_id, Encoding="SSH")
    assert as_ssh["SSHPublicKey"]["SSHPublicKeyBody"] == openssh(key)
    as_pem = iam.get_ssh_public_key(UserName="ssh-user", SSHPublicKeyId=key_id, Encoding="PEM")
    loaded = serialization.load_pem_public_key(as_pem["SSHPublicKey"]["SSHPublicKeyBody"].encode())
    assert loaded.public_numbers() == key.public_key().public_numbers()

    # The same key in PEM is a duplicate; a PEM Ed25519 key is accepted.
    err = error_of(iam.upload_ssh_public_key, UserName="ssh-user", SSHPublicKeyBody=spki_pem(key))
    assert err["Code"] == "DuplicateSSHPublicKey"
    ed = ed25519.Ed25519PrivateKey.generate()
    iam.upload_ssh_public_key(UserName="ssh-user", SSHPublicKeyBody=spki_pem(ed))

    assert error_of(
        iam.upload_ssh_public_key, UserName="ssh-user", SSHPublicKeyBody=openssh(rsa_key(1024))
    )["Code"] == "InvalidPublicKey"
    assert error_of(
        iam.upload_ssh_public_key, UserName="ssh-user", SSHPublicKeyBody="not a key"
    )["Code"] == "UnrecognizedPublicKeyEncoding"

    for _ in range(3):
        iam.upload_ssh_public_key(
            UserName="ssh-user", SSHPublicKeyBody=openssh(ed25519.Ed25519PrivateKey.generate())
        )
    err = error_of(
        iam.upload_ssh_public_key,
        UserName="ssh-user",
        SSHPublicKeyBody=openssh(ed25519.Ed25519PrivateKey.generate()),
    )
    assert err["Code"] == "LimitExceeded"

    iam.update_ssh_public_key(UserName="ssh-user", SSHPublicKeyId=key_id, Status="Inactive")
    listed = iam.list_ssh_public_keys(UserName="ssh-user")["SSHPublicKeys"]
    assert len(listed) == 5
    assert {k["SSHPublicKeyId"]: k["Status"] for k in listed}[key_id] == "Inactive"

    err = error_of(iam.delete_user, UserName="ssh-user")
    assert err["Code"] == "DeleteConflict"
    for k in listed:
        iam.delete_ssh_public_key(UserName="ssh-user", SSHPublicKeyId=k["SSHPublicKeyId"])
    assert error_of(
        iam.get_ssh_public_key, UserName="ssh-user", SSHPublicKeyId=key_id, Encoding="SSH"
    )["Code"] == "NoSuchEntity"
    iam.delete_user(UserName="ssh-user")


def test_signing_certificates_and_the_credential_report(iam):
    iam.create_user(UserName="cert-user")
    first = certificate(rsa_key())
    cert = iam.upload_signing_certificate(UserName="cert-user", CertificateBody=first)["Certificate"]
    cert_id = cert["CertificateId"]
    assert len(cert_id) == 32 and cert_id == cert_id.upper()
    assert cert["Status"] == "Active" and cert["UserName"] == "cert-user"

    assert error_of(
        iam.upload_signing_certificate, UserName="cert-user", CertificateBody=first
    )["Code"] == "DuplicateCertificate"
    assert error_of(
        iam.upload_signing_certificate, UserName="cert-user", CertificateBody="garbage"
    )["Code"] == "MalformedCertificate"
    iam.upload_signing_certificate(UserName="cert-user", CertificateBody=certificate(rsa_key()))
    assert error_of(
        iam.upload_signing_certificate,
        UserName="cert-user",
        CertificateBody=certificate(rsa_key()),
    )["Code"] == "LimitExceeded"

    iam.update_signing_certificate(UserName="cert-user", CertificateId=cert_id, Status="Inactive")
    listed = iam.list_signing_certificates(UserName="cert-user")["Certificates"]
    assert {c["CertificateId"]: c["Status"] for c in listed}[cert_id] == "Inactive"

    while iam.generate_credential_report()["State"] != "COMPLETE":
        time.sleep(0.2)
    report = iam.get_credential_report()["Content"].decode()
    rows = {r["user"]: r for r in csv.DictReader(io.StringIO(report))}
    row = rows["cert-user"]
    # Both were uploaded within a second: either may come first, one is inactive.
    assert sorted([row["cert_1_active"], row["cert_2_active"]]) == ["false", "true"]
    assert row["cert_1_last_rotated"] != "N/A" and row["cert_2_last_rotated"] != "N/A"

    assert error_of(iam.delete_user, UserName="cert-user")["Message"] == (
        "Cannot delete entity, must delete signing certificates first."
    )
    for c in listed:
        iam.delete_signing_certificate(UserName="cert-user", CertificateId=c["CertificateId"])
    assert iam.list_signing_certificates(UserName="cert-user")["Certificates"] == []
    iam.delete_user(UserName="cert-user")


def private_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def test_server_certificates(iam):
    key = rsa_key()
    body = certificate(key, "www.example.com")
    ca = certificate(rsa_key(), "Example CA")
    out = iam.upload_server_certificate(
        Path="/cloudfront/",
        ServerCertificateName="www",
        CertificateBody=body,
        PrivateKey=private_pem(key),
        CertificateChain=ca,
        Tags=[{"Key": "env", "Value": "test"}],
    )
    meta = out["ServerCertificateMetadata"]
    assert meta["ServerCertificateId"].startswith("ASCA")
    assert meta["Arn"].endswith(":server-certificate/cloudfront/www")
    assert meta["Expiration"] > meta["UploadDate"]

    got = iam.get_server_certificate(ServerCertificateName="www")["ServerCertificate"]
    assert got["CertificateBody"] == body
    assert got["CertificateChain"] == ca
    assert "PrivateKey" not in got
    assert got["Tags"] == [{"Key": "env", "Value": "test"}]

    ec_key = ec.generate_private_key(ec.SECP256R1())
    iam.upload_server_certificate(
        ServerCertificateName="ec", CertificateBody=certificate(ec_key), PrivateKey=private_pem(ec_key)
    )
    err = error_of(
        iam.upload_server_certificate,
        ServerCertificateName="mismatch",
        CertificateBody=body,
        PrivateKey=private_pem(rsa_key()),
    )
    assert err["Code"] == "KeyPairMismatch"
    err = error_of(
        iam.upload_server_certificate,
        ServerCertificateName="bad",
        CertificateBody="garbage",
        PrivateKey=private_pem(key),
    )
    assert err["Code"] == "MalformedCertificate"
    assert error_of(
        iam.upload_server_certificate,
        ServerCertificateName="www",
        CertificateBody=body,
        PrivateKey=private_pem(key),
    )["Code"] == "EntityAlreadyExists"

    names = lambda **kw: [  # noqa: E731
        m["ServerCertificateName"]
        for m in iam.list_server_certificates(**kw)["ServerCertificateMetadataList"]
    ]
    assert names(PathPrefix="/cloudfront/") == ["www"]
    iam.update_server_certificate(
        ServerCertificateName="www", NewServerCertificateName="www2", NewPath="/elb/"
    )
    assert names(PathPrefix="/elb/") == ["www2"]
    iam.tag_server_certificate(ServerCertificateName="www2", Tags=[{"Key": "team", "Value": "web"}])
    iam.untag_server_certificate(ServerCertificateName="www2", TagKeys=["env"])
    assert iam.list_server_certificate_tags(ServerCertificateName="www2")["Tags"] == [
        {"Key": "team", "Value": "web"}
    ]
    for name in ("www2", "ec"):
        iam.delete_server_certificate(ServerCertificateName=name)
    assert error_of(iam.get_server_certificate, ServerCertificateName="www2")["Code"] == "NoSuchEntity"


def test_service_specific_credentials(iam, rampart):
    iam.create_user(UserName="git-user")
    cred = iam.create_service_specific_credential(
        UserName="git-user", ServiceName="codecommit.amazonaws.com"
    )["ServiceSpecificCredential"]
    assert cred["ServiceSpecificCredentialId"].startswith("ACCA")
    assert cred["ServiceUserName"].startswith("git-user-at-")
    password = cred["ServicePassword"]
    assert len(password) >= 40

    listed = iam.list_service_specific_credentials(UserName="git-user")["ServiceSpecificCredentials"]
    assert [c["ServiceSpecificCredentialId"] for c in listed] == [cred["ServiceSpecificCredentialId"]]
    assert "ServicePassword" not in listed[0]

    reset = iam.reset_service_specific_credential(
        UserName="git-user", ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"]
    )["ServiceSpecificCredential"]
    assert reset["ServicePassword"] != password
    # The password is stored sealed: it appears nowhere in the data directory.
    for path in rampart.data_dir.rglob("*"):
        if path.is_file():
            assert reset["ServicePassword"].encode() not in path.read_bytes()

    iam.create_service_specific_credential(UserName="git-user", ServiceName="codecommit.amazonaws.com")
    assert error_of(
        iam.create_service_specific_credential,
        UserName="git-user",
        ServiceName="codecommit.amazonaws.com",
    )["Code"] == "LimitExceeded"
    assert error_of(
        iam.create_service_specific_credential, UserName="git-user", ServiceName="s3.amazonaws.com"
    )["Code"] == "NotSupportedService"

    iam.update_service_specific_credential(
        UserName="git-user",
        ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"],
        Status="Inactive",
    )
    assert error_of(iam.delete_user, UserName="git-user")["Code"] == "DeleteConflict"
    for c in iam.list_service_specific_credentials(UserName="git-user")["ServiceSpecificCredentials"]:
        iam.delete_service_specific_credential(
            UserName="git-user", ServiceSpecificCredentialId=c["ServiceSpecificCredentialId"]
        )
    iam.delete_user(UserName="git-user")


def test_service_linked_roles(iam):
    role = iam.create_service_linked_role(AWSServiceName="elasticbeanstalk.amazonaws.com")["Role"]
    assert role["RoleName"] == "AWSServiceRoleForElasticBeanstalk"
    assert role["Path"] == "/aws-service-role/elasticbeanstalk.amazonaws.com/"
    trust = role["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"]["Service"] == ["elasticbeanstalk.amazonaws.com"]
    err = error_of(iam.create_service_linked_role, AWSServiceName="elasticbeanstalk.amazonaws.com")
    assert err["Code"] == "InvalidInput"
    suffixed = iam.create_service_linked_role(
        AWSServiceName="autoscaling.amazonaws.com", CustomSuffix="web"
    )["Role"]
    assert suffixed["RoleName"] == "AWSServiceRoleForAutoScaling_web"

    task = iam.delete_service_linked_role(RoleName="AWSServiceRoleForElasticBeanstalk")["DeletionTaskId"]
    assert task.startswith(
        "task/aws-service-role/elasticbeanstalk.amazonaws.com/AWSServiceRoleForElasticBeanstalk/"
    )
    status = iam.get_service_linked_role_deletion_status(DeletionTaskId=task)
    assert status["Status"] == "SUCCEEDED"
    assert error_of(iam.get_role, RoleName="AWSServiceRoleForElasticBeanstalk")["Code"] == "NoSuchEntity"
    iam.delete_service_linked_role(RoleName="AWSServiceRoleForAutoScaling_web")


def test_policies_granting_service_access(iam):
    iam.create_user(UserName="advised")
    iam.put_user_policy(
        UserName="advised",
        PolicyName="kms-use",
        PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}',
    )
    arn = iam.get_user(UserName="advised")["User"]["Arn"]
    out = iam.list_policies_granting_service_access(Arn=arn, ServiceNamespaces=["kms", "s3"])
    entries = {e["ServiceNamespace"]: e["Policies"] for e in out["PoliciesGrantingServiceAccess"]}
    assert [p["PolicyName"] for p in entries["kms"]] == ["kms-use"]
    assert entries["kms"][0]["PolicyType"] == "INLINE"
    assert entries["s3"] == []

    job = iam.generate_service_last_accessed_details(Arn=arn)["JobId"]
    details = iam.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="kms")
    assert details["JobStatus"] == "COMPLETED"
    assert [d["EntityInfo"]["Name"] for d in details["EntityDetailsList"]] == ["advised"]
    iam.delete_user_policy(UserName="advised", PolicyName="kms-use")
    iam.delete_user(UserName="advised")
