"""IAM identity providers end to end with boto3 and the AWS CLI: OpenID Connect providers
(URL, client IDs, thumbprints, tags) and SAML providers (metadata documents, tags)."""

import base64
import datetime
import json
import uuid

import botocore.exceptions
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from conftest import ACCOUNT_ID

THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def error(call):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]


@pytest.fixture
def iam(rampart):
    return rampart.client("iam")


def certificate_b64():
    """A self-signed signing certificate, as an IdP would publish in its metadata."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.example.com")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def metadata(entity_id, cert=None, descriptor="IDPSSODescriptor"):
    cert = cert or certificate_b64()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}" validUntil="2030-01-01T00:00:00Z">
  <md:{descriptor} protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>
  </md:{descriptor}>
</md:EntityDescriptor>"""


def test_oidc_provider_lifecycle(iam):
    host = f"{unique('idp')}.example.com/tenant"
    created = iam.create_open_id_connect_provider(
        Url=f"https://{host}",
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=[THUMBPRINT],
        Tags=[{"Key": "team", "Value": "platform"}],
    )
    arn = created["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host}"
    assert created["Tags"] == [{"Key": "team", "Value": "platform"}]

    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["Url"] == host
    assert got["ClientIDList"] == ["sts.amazonaws.com"]
    assert got["ThumbprintList"] == [THUMBPRINT]
    assert got["CreateDate"]

    assert arn in [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]

    dup = error(lambda: iam.create_open_id_connect_provider(Url=f"https://{host}"))
    assert dup["Code"] == "EntityAlreadyExists"
    assert dup["Message"] == f"Provider with url https://{host} already exists."

    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app-2")
    iam.remove_client_id_from_open_id_connect_provider(
        OpenIDConnectProviderArn=arn, ClientID="sts.amazonaws.com"
    )
    iam.update_open_id_connect_provider_thumbprint(
        OpenIDConnectProviderArn=arn, ThumbprintList=["a" * 40, "b" * 40]
    )
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["ClientIDList"] == ["app-2"]
    assert got["ThumbprintList"] == ["a" * 40, "b" * 40]

    iam.tag_open_id_connect_provider(
        OpenIDConnectProviderArn=arn, Tags=[{"Key": "env", "Value": "test"}]
    )
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["team"])
    tags = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"]
    assert tags == [{"Key": "env", "Value": "test"}]

    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    missing = error(lambda: iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn))
    assert missing["Code"] == "NoSuchEntity"
    assert missing["Message"] == f"OpenIDConnect Provider not found for arn {arn}"
    # AWS: deleting a provider that does not exist is not an error.
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)


def test_oidc_urls_must_be_https_except_on_loopback(iam):
    refused = error(lambda: iam.create_open_id_connect_provider(Url="http://idp.example.com"))
    assert refused["Code"] == "InvalidInput"
    assert "must begin with https://" in refused["Message"]
    assert error(lambda: iam.create_open_id_connect_provider(Url="idp.example.com"))["Code"] == (
        "ValidationError"
    )
    too_many = error(
        lambda: iam.create_open_id_connect_provider(
            Url=f"https://{unique('t')}.example.com", ThumbprintList=["c" * 40] * 6
        )
    )
    assert too_many["Code"] == "InvalidInput"

    # Rampart also takes a plain-http issuer on the loopback interface, for offline tests.
    arn = iam.create_open_id_connect_provider(Url="http://127.0.0.1:9999/issuer")[
        "OpenIDConnectProviderArn"
    ]
    assert arn.endswith(":oidc-provider/127.0.0.1:9999/issuer")
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)


def test_oidc_provider_with_the_cli(rampart):
    host = f"{unique('cli')}.example.com"
    out = rampart.aws(
        "iam", "create-open-id-connect-provider", "--url", f"https://{host}",
        "--client-id-list", "my-app", "--thumbprint-list", THUMBPRINT,
    )
    assert out.returncode == 0, out.stderr
    arn = json.loads(out.stdout)["OpenIDConnectProviderArn"]
    out = rampart.aws("iam", "get-open-id-connect-provider", "--open-id-connect-provider-arn", arn)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["Url"] == host
    out = rampart.aws("iam", "delete-open-id-connect-provider", "--open-id-connect-provider-arn", arn)
    assert out.returncode == 0, out.stderr


def test_saml_provider_lifecycle(iam):
    name = unique("Okta")
    created = iam.create_saml_provider(
        Name=name,
        SAMLMetadataDocument=metadata("https://idp.example.com/a"),
        Tags=[{"Key": "team", "Value": "identity"}],
    )
    arn = created["SAMLProviderArn"]
    assert arn == f"arn:aws:iam::{ACCOUNT_ID}:saml-provider/{name}"

    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert "https://idp.example.com/a" in got["SAMLMetadataDocument"]
    assert got["ValidUntil"].year == 2030
    assert got["Tags"] == [{"Key": "team", "Value": "identity"}]

    listed = {p["Arn"]: p for p in iam.list_saml_providers()["SAMLProviderList"]}
    assert arn in listed and listed[arn]["CreateDate"]

    dup = error(lambda: iam.create_saml_provider(Name=name, SAMLMetadataDocument=metadata("x")))
    assert dup["Code"] == "EntityAlreadyExists"

    updated = iam.update_saml_provider(
        SAMLProviderArn=arn, SAMLMetadataDocument=metadata("https://idp.example.com/b")
    )
    assert updated["SAMLProviderArn"] == arn
    assert "https://idp.example.com/b" in iam.get_saml_provider(SAMLProviderArn=arn)[
        "SAMLMetadataDocument"
    ]

    iam.tag_saml_provider(SAMLProviderArn=arn, Tags=[{"Key": "env", "Value": "test"}])
    iam.untag_saml_provider(SAMLProviderArn=arn, TagKeys=["team"])
    assert iam.list_saml_provider_tags(SAMLProviderArn=arn)["Tags"] == [
        {"Key": "env", "Value": "test"}
    ]

    iam.delete_saml_provider(SAMLProviderArn=arn)
    missing = error(lambda: iam.get_saml_provider(SAMLProviderArn=arn))
    assert missing["Code"] == "NoSuchEntity"
    assert error(lambda: iam.delete_saml_provider(SAMLProviderArn=arn))["Code"] == "NoSuchEntity"


def test_saml_metadata_must_name_an_idp_signing_certificate(iam):
    for document in [
        metadata("https://sp.example.com", descriptor="SPSSODescriptor"),
        "<not-xml" + " " * 1000,
    ]:
        refused = error(
            lambda: iam.create_saml_provider(Name=unique("bad"), SAMLMetadataDocument=document)
        )
        assert refused["Code"] == "InvalidInput"
        assert refused["Message"] == "Could not parse metadata"
