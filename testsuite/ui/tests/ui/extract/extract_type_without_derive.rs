use instructor::prelude::*;

#[derive(Deserialize)]
struct Invoice {
    total: u32,
}

fn call(client: &Client) {
    let _ = client.extract::<Invoice>();
}

fn main() {
    let _ = call;
}
