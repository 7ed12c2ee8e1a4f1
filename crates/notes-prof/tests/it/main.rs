//! Integration tests of notes-prof: known call trees, the printed layout, the loader.

mod calltree;
mod flame;
mod layout;
mod loader;
