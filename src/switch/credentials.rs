//! The Zoom OAuth app's credentials as a person types them into the form.

use secrecy::SecretString;

/// Characters Zoom's client ids and secrets are made of.
fn zoom_charset(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoomClientId(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialError {
    #[error("The client ID should be 8 to 64 letters and digits, as shown under App Credentials in your Zoom OAuth app. Check it and run /migrate again.")]
    ClientId,
    #[error("The client secret does not look like a Zoom client secret (8 to 128 letters and digits). Copy it again from App Credentials and run /migrate again.")]
    ClientSecret,
}

impl ZoomClientId {
    pub fn parse(raw: &str) -> Result<Self, CredentialError> {
        let text = raw.trim();
        if (8..=64).contains(&text.len()) && text.chars().all(zoom_charset) {
            Ok(Self(text.to_owned()))
        } else {
            Err(CredentialError::ClientId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a client secret's shape without ever putting it in an error message.
pub fn parse_client_secret(raw: &str) -> Result<SecretString, CredentialError> {
    let text = raw.trim();
    if (8..=128).contains(&text.len()) && text.chars().all(zoom_charset) {
        Ok(SecretString::from(text.to_owned()))
    } else {
        Err(CredentialError::ClientSecret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn accepts_zoom_shaped_credentials_trimmed() {
        assert_eq!(
            ZoomClientId::parse("  Xqn5sA1bRWKFu5vUGEzmGA \n").map(|c| c.as_str().to_owned()),
            Ok("Xqn5sA1bRWKFu5vUGEzmGA".into())
        );
        let secret = parse_client_secret(" a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6 ").expect("secret");
        assert_eq!(secret.expose_secret(), "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6");
    }

    #[test]
    fn rejects_other_shapes_without_repeating_the_secret() {
        for bad in [
            "short",
            "has spaces inside",
            "quote\"s-are-out",
            &"x".repeat(65),
        ] {
            assert_eq!(
                ZoomClientId::parse(bad),
                Err(CredentialError::ClientId),
                "{bad}"
            );
        }
        let secret = "not a secret!!";
        let error = parse_client_secret(secret).expect_err("bad secret");
        assert!(!error.to_string().contains(secret));
    }
}
