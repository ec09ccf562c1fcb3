"""Identity providers the federation tests act as: an OpenID Connect provider whose tokens
the test signs (keys published as a JWKS file), and a SAML IdP whose assertions the test signs,
both registered in IAM; and an STS client with no credentials, as federation calls need none."""

import base64
import datetime
import json
import time
import urllib.parse
import uuid

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

AUDIENCE = "sts.amazonaws.com"
# AWS's sign-in endpoint: where IdPs post SAML responses, their Recipient and audience.
SIGN_IN = "https://signin.aws.amazon.com/saml"
THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def unsigned_sts(rampart):
    """An STS client with no credentials at all: federation calls need none."""
    return boto3.client(
        "sts", endpoint_url=rampart.endpoint, region_name="us-east-1",
        config=Config(signature_version=UNSIGNED),
    )


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SigningKey:
    """An RSA key an identity provider signs tokens with, and its public JWK."""

    def __init__(self, kid="key-1"):
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self):
        numbers = self.private.public_key().public_numbers()
        return {
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
            "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": b64url(numbers.e.to_bytes(3, "big")),
        }

    def token(self, claims):
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        signature = self.private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"


class OidcProvider:
    """An OpenID Connect provider registered in IAM, its keys published as a JWKS file."""

    def __init__(self, rampart, jwks_dir, iam=None):
        self.host_path = f"{unique('idp')}.example.com/tenant"
        self.issuer = f"https://{self.host_path}"
        self.key = SigningKey()
        file_name = urllib.parse.quote(self.host_path, safe="") + ".json"
        (jwks_dir / file_name).write_text(json.dumps({"keys": [self.key.jwk()]}))
        iam = iam or rampart.client("iam")
        self.arn = iam.create_open_id_connect_provider(
            Url=self.issuer, ClientIDList=[AUDIENCE], ThumbprintList=[THUMBPRINT]
        )["OpenIDConnectProviderArn"]

    def claims(self, subject="repo:example/app:ref:refs/heads/main", **extra):
        now = int(time.time())
        return {"iss": self.issuer, "aud": AUDIENCE, "sub": subject, "iat": now,
                "exp": now + 300, **extra}

    def token(self, **claims):
        return self.key.token(self.claims(**claims))


def iso(seconds_from_now):
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds_from_now)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


class SamlIdp:
    """A SAML identity provider: a signing key, its self-signed certificate in metadata
    registered with IAM, and assertions signed with them."""

    def __init__(self, rampart):
        self.entity_id = f"https://{unique('saml')}.example.com/idp"
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.example.com")])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .sign(self.key, hashes.SHA256())
        )
        der = base64.b64encode(self.certificate.public_bytes(serialization.Encoding.DER)).decode()
        metadata = f"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{self.entity_id}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
      <ds:X509Data><ds:X509Certificate>{der}</ds:X509Certificate></ds:X509Data>
    </ds:KeyInfo></md:KeyDescriptor>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""
        self.name = unique("Idp")
        self.arn = rampart.client("iam").create_saml_provider(
            Name=self.name, SAMLMetadataDocument=metadata)["SAMLProviderArn"]

    def response(self, role_arn, subject="alice@example.com", attributes=None, authn="",
                 recipient=SIGN_IN):
        """A base64 SAMLResponse whose assertion is signed (enveloped, exclusive C14N,
        RSA-SHA256), as IdPs post it to AWS, its bearer confirmation to `recipient`."""
        from lxml import etree
        from signxml import XMLSigner, methods

        values = {
            "https://aws.amazon.com/SAML/Attributes/Role": [f"{role_arn},{self.arn}"],
            "https://aws.amazon.com/SAML/Attributes/RoleSessionName": ["alice"],
            **(attributes or {}),
        }
        statements = "".join(
            f'<saml:Attribute Name="{name}">'
            + "".join(f"<saml:AttributeValue>{v}</saml:AttributeValue>" for v in vals)
            + "</saml:Attribute>"
            for name, vals in values.items()
        )
        assertion_id = f"_{uuid.uuid4().hex}"
        assertion = f"""<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{assertion_id}" Version="2.0" IssueInstant="{iso(0)}">
<saml:Issuer>{self.entity_id}</saml:Issuer>
<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="placeholder"></ds:Signature>
<saml:Subject>
<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{subject}</saml:NameID>
<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
<saml:SubjectConfirmationData NotOnOrAfter="{iso(300)}" Recipient="{recipient}"/>
</saml:SubjectConfirmation>
</saml:Subject>
<saml:Conditions NotBefore="{iso(-60)}" NotOnOrAfter="{iso(300)}">
<saml:AudienceRestriction><saml:Audience>https://signin.aws.amazon.com/saml</saml:Audience></saml:AudienceRestriction>
</saml:Conditions>
{authn}
<saml:AttributeStatement>{statements}</saml:AttributeStatement>
</saml:Assertion>"""
        signed = XMLSigner(
            method=methods.enveloped,
            signature_algorithm="rsa-sha256",
            digest_algorithm="sha256",
            c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#",
        ).sign(
            etree.fromstring(assertion.encode()),
            key=self.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()),
            cert=self.certificate.public_bytes(serialization.Encoding.PEM).decode(),
            reference_uri=assertion_id,
        )
        response = (
            '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
            f'ID="_{uuid.uuid4().hex}" Version="2.0" IssueInstant="{iso(0)}" '
            'Destination="https://signin.aws.amazon.com/saml">'
            f'<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">{self.entity_id}</saml:Issuer>'
            '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>'
            + etree.tostring(signed).decode()
            + "</samlp:Response>"
        )
        return base64.b64encode(response.encode()).decode()


def saml_role(rampart, idp, policy=None, also=()):
    """A role whose trust policy lets `idp`'s users in through AWS's sign-in endpoint."""
    iam = rampart.client("iam")
    name = unique("saml")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": idp.arn},
        "Action": ["sts:AssumeRoleWithSAML", *also],
        "Condition": {"StringEquals": {"SAML:aud": SIGN_IN}},
    }]}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if policy:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=policy)
    return name, arn
