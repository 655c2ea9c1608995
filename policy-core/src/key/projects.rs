//! The projects a project-scoped key may reach: 1 to [`MAX_PROJECTS`] distinct ids, kept sorted
//! so that every output (the origin's project filter, `/me`, the admin API) lists them alike.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A project-scoped key names at most this many projects.
pub const MAX_PROJECTS: usize = 50;

/// Why a list of project ids is not a key's projects.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProjectIdsError {
    /// More than [`MAX_PROJECTS`] ids.
    TooMany,
    /// This id is listed twice.
    Duplicate(String),
}

impl fmt::Display for ProjectIdsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProjectIdsError::TooMany => write!(f, "a key names at most {MAX_PROJECTS} projects"),
            ProjectIdsError::Duplicate(id) => write!(f, "project {id} is listed twice"),
        }
    }
}

impl core::error::Error for ProjectIdsError {}

/// A key's projects: distinct ids in ascending (byte) order; empty for organization keys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ProjectIds(Vec<String>);

impl ProjectIds {
    /// No project (an organization key).
    pub const fn none() -> ProjectIds {
        ProjectIds(Vec::new())
    }

    /// One project.
    pub fn one(id: impl Into<String>) -> ProjectIds {
        ProjectIds(alloc::vec![id.into()])
    }

    /// These ids, sorted; refused when more than [`MAX_PROJECTS`] or when one repeats.
    pub fn new(mut ids: Vec<String>) -> Result<ProjectIds, ProjectIdsError> {
        if ids.len() > MAX_PROJECTS {
            return Err(ProjectIdsError::TooMany);
        }
        ids.sort_unstable();
        if let Some([twice, _]) = ids.windows(2).find(|pair| matches!(pair, [a, b] if a == b)) {
            return Err(ProjectIdsError::Duplicate(twice.clone()));
        }
        Ok(ProjectIds(ids))
    }

    /// The ids, sorted.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// No project at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `id` is one of them.
    pub fn contains(&self, id: &str) -> bool {
        self.0.binary_search_by(|p| p.as_str().cmp(id)).is_ok()
    }

    /// The id when there is exactly one (what `scopedProjectId` shows), else `None`.
    pub fn single(&self) -> Option<&str> {
        match self.0.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// The ids as the origin's `X-Keyscope-Project-Filter` value: sorted, joined by `,`.
    pub fn filter(&self) -> ProjectFilter<'_> {
        ProjectFilter(&self.0)
    }
}

/// A key's projects written as the origin's project filter (`p1,p2`): [`fmt::Display`] writes
/// it without building a string first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProjectFilter<'a>(&'a [String]);

impl<'a> ProjectFilter<'a> {
    /// The ids, sorted.
    pub fn ids(&self) -> &'a [String] {
        self.0
    }
}

impl fmt::Display for ProjectFilter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, id) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(id)?;
        }
        Ok(())
    }
}

impl Serialize for ProjectIds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ProjectIds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ProjectIds, D::Error> {
        ProjectIds::new(Vec::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ids_are_sorted_distinct_and_at_most_fifty() {
        let p = ProjectIds::new(ids(&["p2", "p10", "p1"])).unwrap();
        assert_eq!(p.as_slice(), ids(&["p1", "p10", "p2"]).as_slice());
        assert_eq!(p.filter().to_string(), "p1,p10,p2");
        assert!(p.contains("p10") && !p.contains("p3"));
        assert_eq!(p.single(), None);
        assert_eq!(ProjectIds::one("p1").single(), Some("p1"));
        assert_eq!(
            ProjectIds::new(ids(&["a", "b", "a"])),
            Err(ProjectIdsError::Duplicate("a".into()))
        );
        let fifty: Vec<String> = (0..50).map(|i| alloc::format!("p{i}")).collect();
        assert!(ProjectIds::new(fifty.clone()).is_ok());
        let mut fifty_one = fifty;
        fifty_one.push("p50".into());
        assert_eq!(ProjectIds::new(fifty_one), Err(ProjectIdsError::TooMany));
    }
}
