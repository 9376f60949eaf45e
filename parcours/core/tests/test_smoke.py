def test_it_answers_health_check(client, db):
    response = client.get("/sante/")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_it_shows_public_home_to_visitors(client, db):
    assert client.get("/").status_code == 200
