//! Request bodies an SDK compressed: `Content-Encoding: gzip`, as AWS's `requestcompression`
//! trait lets clients send them (botocore gzips a CloudWatch PutMetricData body of 10 KiB or
//! more). The signature covers the bytes as sent; routing and the decoders read them
//! inflated, bounded as an uncompressed body of the protocol is.

use std::borrow::Cow;
use std::io::Read;

use http::request::Parts;
use rampart_wire::AwsError;

/// The body as the decoders read it: `body` itself, or `body` inflated when the request says
/// it is gzip-compressed. An inflated body over `limit` bytes is refused, so a small
/// compressed body cannot expand into an unbounded one.
pub(crate) fn decoded<'a>(
    parts: &Parts,
    body: &'a [u8],
    limit: usize,
) -> Result<Cow<'a, [u8]>, AwsError> {
    let mut codings = Vec::new();
    for value in parts.headers.get_all(http::header::CONTENT_ENCODING) {
        let value = value.to_str().map_err(|_| unsupported("(not text)"))?;
        codings.extend(
            value
                .split(',')
                .map(|c| c.trim().to_ascii_lowercase())
                .filter(|c| !c.is_empty() && c != "identity"),
        );
    }
    match codings.as_slice() {
        [] => Ok(Cow::Borrowed(body)),
        [gzip] if gzip == "gzip" => inflate(body, limit).map(Cow::Owned),
        [other, ..] => Err(unsupported(other)),
    }
}

fn unsupported(coding: &str) -> AwsError {
    AwsError::new(
        "UnsupportedMediaType",
        415,
        format!("Content-Encoding {coding} is not supported: send gzip or no encoding"),
    )
}

fn inflate(body: &[u8], limit: usize) -> Result<Vec<u8>, AwsError> {
    let mut out = Vec::new();
    let bound = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::GzDecoder::new(body)
        .take(bound)
        .read_to_end(&mut out)
        .map_err(|_| {
            AwsError::new(
                "SerializationException",
                400,
                "The gzip-encoded body cannot be inflated",
            )
        })?;
    if out.len() > limit {
        return Err(AwsError::new(
            "RequestEntityTooLarge",
            413,
            format!("Request body exceeds the maximum size of {limit} bytes once inflated"),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn parts(encoding: Option<&str>) -> Parts {
        let mut request = http::Request::post("/");
        if let Some(e) = encoding {
            request = request.header(http::header::CONTENT_ENCODING, e);
        }
        request.body(()).unwrap().into_parts().0
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gzip_bodies_are_inflated_within_the_bound() {
        let body = gzip(b"Action=ListMetrics");
        let read = decoded(&parts(Some("gzip")), &body, 100).unwrap();
        assert_eq!(read.as_ref(), b"Action=ListMetrics");
        assert_eq!(
            decoded(&parts(None), b"plain", 100).unwrap().as_ref(),
            b"plain"
        );
        assert_eq!(
            decoded(&parts(Some("identity")), b"plain", 100)
                .unwrap()
                .as_ref(),
            b"plain"
        );
        // A bomb: 10 MB of zeros compresses to about 10 KB.
        let bomb = gzip(&vec![0u8; 10_000_000]);
        let error = decoded(&parts(Some("gzip")), &bomb, 1024 * 1024).unwrap_err();
        assert_eq!(error.status, 413);
        let error = decoded(&parts(Some("gzip")), b"not gzip", 100).unwrap_err();
        assert_eq!(error.status, 400);
        let error = decoded(&parts(Some("br")), b"x", 100).unwrap_err();
        assert_eq!(error.status, 415);
    }
}
