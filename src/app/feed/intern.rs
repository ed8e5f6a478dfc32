//! Strings the feed keeps once however often they recur: a million sign-ins
//! name a few thousand users, apps and networks.

use std::collections::HashMap;

use crate::model::SafeText;

/// A string's number in an [`Interner`]. Symbol 0 is the empty string.
pub type Sym = u32;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interner {
    texts: Vec<SafeText>,
    index: HashMap<SafeText, Sym>,
}

impl Default for Interner {
    fn default() -> Self {
        let empty = SafeText::default();
        Self {
            texts: vec![empty.clone()],
            index: HashMap::from([(empty, 0)]),
        }
    }
}

impl Interner {
    pub fn intern(&mut self, text: &SafeText) -> Sym {
        if let Some(&sym) = self.index.get(text) {
            return sym;
        }
        let sym = Sym::try_from(self.texts.len()).expect("fewer than 4 billion distinct strings");
        self.texts.push(text.clone());
        self.index.insert(text.clone(), sym);
        sym
    }

    pub fn get(&self, sym: Sym) -> &SafeText {
        &self.texts[sym as usize]
    }

    /// How many symbols exist; every symbol is below this.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.len() == 1
    }

    /// Bytes held, for the memory benchmark.
    pub fn heap_bytes(&self) -> usize {
        let text: usize = self.texts.iter().map(|t| t.as_str().len()).sum();
        // Each string is held twice (list and index) plus the slots.
        text * 2 + self.texts.capacity() * 32 + self.index.capacity() * 40
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_gets_one_symbol() {
        let mut strings = Interner::default();
        let a = strings.intern(&SafeText::new("adele@contoso.com"));
        let b = strings.intern(&SafeText::new("megan@contoso.com"));
        assert_eq!(strings.intern(&SafeText::new("adele@contoso.com")), a);
        assert_ne!(a, b);
        assert_eq!(strings.intern(&SafeText::default()), 0);
        assert_eq!(strings.get(b).as_str(), "megan@contoso.com");
    }
}
