mod good;
mod bad;
