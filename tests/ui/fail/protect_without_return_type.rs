#[rasp::protect]
fn handler() {}

#[rasp::protect(route = "/health")]
async fn health() {}

fn main() {}
