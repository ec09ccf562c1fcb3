"""A SAML identity provider for the end-to-end tests: a key and certificate made here,
registered with IAM as a SAML provider, and SAML responses signed with them as IdPs post them
to AWS (signxml and lxml sign them)."""

import base64
import datetime
import json
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

SIGN_IN = "https://signin.aws.amazon.com/saml"


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


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
