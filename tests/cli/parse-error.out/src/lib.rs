mod good;
mod bad;
mod served;
