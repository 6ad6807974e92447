//! Discovery surfaces, and the places where a text sits.
//!
//! A [`Surface`] is a discovery system that asks Guardrail before it shows anything:
//! account suggestions, a profile's similar accounts, the feed, search results,
//! autocomplete, related hashtags, message requests. A [`TextPlace`] is where a text is
//! written or typed (a search query, a hashtag, a bio...); the text guard reads a text
//! differently by place (a username is one token, an autocomplete suggestion is the
//! platform's own speech). The two are different questions and must never be confused:
//! search is both a surface (its results) and a place (the query typed into it).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::names::{UnknownName, parse_name};

/// A discovery surface that asks for decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Surface {
    /// "Suggested for you" account suggestions.
    AccountSuggestions,
    /// A profile's "similar accounts".
    SimilarAccounts,
    /// Feed and explore content.
    Feed,
    /// Search results.
    Search,
    /// Autocomplete suggestions.
    Autocomplete,
    /// Related hashtags.
    RelatedHashtags,
    /// Message requests from accounts the recipient does not follow.
    MessageRequests,
}

impl Surface {
    /// Every surface, in the order rules and reports list them.
    pub const ALL: [Surface; 7] = [
        Surface::AccountSuggestions,
        Surface::SimilarAccounts,
        Surface::Feed,
        Surface::Search,
        Surface::Autocomplete,
        Surface::RelatedHashtags,
        Surface::MessageRequests,
    ];

    /// The name used in rule files, the CLI, routes and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Surface::AccountSuggestions => "account_suggestions",
            Surface::SimilarAccounts => "similar_accounts",
            Surface::Feed => "feed",
            Surface::Search => "search",
            Surface::Autocomplete => "autocomplete",
            Surface::RelatedHashtags => "related_hashtags",
            Surface::MessageRequests => "message_requests",
        }
    }

    /// The surface's position in [`Surface::ALL`] (for tables indexed by surface).
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether the surface decides on a typed query (search, autocomplete, related
    /// hashtags) rather than on a viewer's candidates.
    pub fn takes_query(self) -> bool {
        matches!(
            self,
            Surface::Search | Surface::Autocomplete | Surface::RelatedHashtags
        )
    }
}

impl fmt::Display for Surface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Surface {
    type Err = UnknownName;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        parse_name("surface", name, &Surface::ALL, Surface::name)
    }
}

/// Where a text sits: what was typed, written or suggested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextPlace {
    /// A search query.
    Search,
    /// A hashtag being used, listed or trended.
    Hashtag,
    /// An autocomplete suggestion.
    Autocomplete,
    /// A profile bio.
    Bio,
    /// A post caption.
    Caption,
    /// A comment.
    Comment,
    /// A username or display name.
    Username,
}

impl TextPlace {
    /// Every place.
    pub const ALL: [TextPlace; 7] = [
        TextPlace::Search,
        TextPlace::Hashtag,
        TextPlace::Autocomplete,
        TextPlace::Bio,
        TextPlace::Caption,
        TextPlace::Comment,
        TextPlace::Username,
    ];

    /// The place's name in the CLI, routes and JSON.
    pub fn name(self) -> &'static str {
        match self {
            TextPlace::Search => "search",
            TextPlace::Hashtag => "hashtag",
            TextPlace::Autocomplete => "autocomplete",
            TextPlace::Bio => "bio",
            TextPlace::Caption => "caption",
            TextPlace::Comment => "comment",
            TextPlace::Username => "username",
        }
    }
}

impl fmt::Display for TextPlace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TextPlace {
    type Err = UnknownName;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        parse_name("place", name, &TextPlace::ALL, TextPlace::name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_choices() {
        for surface in Surface::ALL {
            assert_eq!(surface.name().parse::<Surface>(), Ok(surface));
            assert_eq!(Surface::ALL[surface.index()], surface);
            let json = serde_json::to_string(&surface).expect("serialises");
            assert_eq!(json, format!("\"{}\"", surface.name()));
        }
        for place in TextPlace::ALL {
            assert_eq!(place.name().parse::<TextPlace>(), Ok(place));
        }
        let error = "bio"
            .parse::<Surface>()
            .expect_err("bio is a place, not a surface");
        assert_eq!(
            error.to_string(),
            "unknown surface \"bio\"; expected one of account_suggestions, similar_accounts, \
             feed, search, autocomplete, related_hashtags, message_requests"
        );
        assert!("feed".parse::<TextPlace>().is_err());
    }
}
