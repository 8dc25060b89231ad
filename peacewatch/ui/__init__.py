"""The web application: server-rendered pages over the API, the operations map, the public official map."""
