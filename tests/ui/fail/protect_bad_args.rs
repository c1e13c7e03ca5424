#[rasp::protect(rout = "/users")]
fn typo() -> Result<(), rasp::Blocked> {
    Ok(())
}

#[rasp::protect(route = "/a", route = "/b")]
fn twice() -> Result<(), rasp::Blocked> {
    Ok(())
}

#[rasp::protect(route = "")]
fn empty() -> Result<(), rasp::Blocked> {
    Ok(())
}

#[rasp::protect(route = "/a" "/b")]
fn no_comma() -> Result<(), rasp::Blocked> {
    Ok(())
}

fn main() {}
