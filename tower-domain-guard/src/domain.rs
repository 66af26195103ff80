//! `SharedDomain`: placeholder, owned by the guard crate's author.
