pub fn routes() -> Vec<crate::web::routes::Route> {
    Vec::new()
}
