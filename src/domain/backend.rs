use std::fmt;

/// How a switch lands (INTERFACE.md, "The switch: two ways it lands").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// cutover exchanges the code itself and keeps the tokens; integrator.io is unchanged.
    Direct,
    /// cutover switches the connection in integrator.io, which keeps the tokens.
    Celigo,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Direct => "direct",
            Backend::Celigo => "celigo",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Direct, Self::Celigo]
            .into_iter()
            .find(|b| b.as_str() == raw)
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for b in [Backend::Direct, Backend::Celigo] {
            assert_eq!(Backend::parse(b.as_str()), Some(b));
        }
        assert_eq!(Backend::parse("auto"), None);
    }
}
