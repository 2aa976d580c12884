//! Counting in words people read: "1 secret", "3 secrets", never "secret(s)".

/// `count` with the noun that agrees with it.
pub fn counted<N>(count: N, one: &str, many: &str) -> String
where
    N: std::fmt::Display + PartialEq + From<u8>,
{
    if count == N::from(1) {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::counted;

    #[test]
    fn one_is_singular_and_everything_else_plural() {
        assert_eq!(counted(1, "secret", "secrets"), "1 secret");
        assert_eq!(counted(0, "secret", "secrets"), "0 secrets");
        assert_eq!(counted(3u64, "connection", "connections"), "3 connections");
        assert_eq!(counted(1u32, "deadline", "deadlines"), "1 deadline");
    }
}
