//! A set of data categories, as a grant reads or writes them. Small and
//! `Copy`, so that decisions can combine sets freely.

use std::fmt;

use crate::fhir::DataCategory;

/// A set of [`DataCategory`] values.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CategorySet(u16);

impl CategorySet {
    pub const EMPTY: CategorySet = CategorySet(0);

    pub fn all() -> CategorySet {
        Self::of(&DataCategory::ALL)
    }

    pub fn of(categories: &[DataCategory]) -> CategorySet {
        categories.iter().fold(Self::EMPTY, |set, &c| set.with(c))
    }

    fn bit(category: DataCategory) -> u16 {
        let index = DataCategory::ALL.iter().position(|&c| c == category).unwrap_or_default();
        1 << index
    }

    #[must_use]
    pub fn with(self, category: DataCategory) -> CategorySet {
        CategorySet(self.0 | Self::bit(category))
    }

    pub fn contains(self, category: DataCategory) -> bool {
        self.0 & Self::bit(category) != 0
    }

    #[must_use]
    pub fn intersection(self, other: CategorySet) -> CategorySet {
        CategorySet(self.0 & other.0)
    }

    #[must_use]
    pub fn union(self, other: CategorySet) -> CategorySet {
        CategorySet(self.0 | other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members, in the order of [`DataCategory::ALL`].
    pub fn iter(self) -> impl Iterator<Item = DataCategory> {
        DataCategory::ALL.into_iter().filter(move |&c| self.contains(c))
    }

    pub fn to_vec(self) -> Vec<DataCategory> {
        self.iter().collect()
    }
}

impl FromIterator<DataCategory> for CategorySet {
    fn from_iter<I: IntoIterator<Item = DataCategory>>(iter: I) -> Self {
        iter.into_iter().fold(Self::EMPTY, CategorySet::with)
    }
}

impl fmt::Debug for CategorySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(DataCategory::code)).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subset_round_trips_and_combines_as_sets_do() {
        let all = DataCategory::ALL;
        for bits in 0u32..(1 << all.len()) {
            let members: Vec<DataCategory> =
                all.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, &c)| c).collect();
            let set = CategorySet::of(&members);
            assert_eq!(set.to_vec(), members);
            assert_eq!(set.is_empty(), members.is_empty());
            let identity = CategorySet::of(&[DataCategory::Identity]);
            assert_eq!(
                set.intersection(identity).contains(DataCategory::Identity),
                members.contains(&DataCategory::Identity)
            );
            assert_eq!(
                set.union(identity).iter().count(),
                members.len() + usize::from(!members.contains(&DataCategory::Identity))
            );
        }
        assert_eq!(CategorySet::all().iter().count(), all.len());
    }
}
