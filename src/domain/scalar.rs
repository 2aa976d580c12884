use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;

/// Any scalar as text. Environment variables reach the configuration already typed
/// (`8080` arrives as a number), so types parsed from text accept every scalar.
pub struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl Visitor<'_> for ScalarVisitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("text")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_owned()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

/// `TryFrom<Scalar>` for a type that already has `TryFrom<String>`.
macro_rules! try_from_scalar {
    ($($t:ty),*) => {$(
        impl TryFrom<$crate::domain::Scalar> for $t {
            type Error = <$t as TryFrom<String>>::Error;
            fn try_from(value: $crate::domain::Scalar) -> Result<Self, Self::Error> {
                <$t>::try_from(value.0)
            }
        }
    )*};
}
pub(crate) use try_from_scalar;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scalar_reads_as_text() {
        for (json, text) in [
            ("\"a\"", "a"),
            ("8080", "8080"),
            ("-1", "-1"),
            ("1.5", "1.5"),
            ("true", "true"),
        ] {
            assert_eq!(
                serde_json::from_str::<Scalar>(json).map(|s| s.0).ok(),
                Some(text.to_owned())
            );
        }
        assert!(serde_json::from_str::<Scalar>("[1]").is_err());
    }
}
