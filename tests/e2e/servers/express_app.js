// Express with the real `cors` package, one router per configuration.
//   node express_app.js PORT ALLOWED_ORIGIN
// /reflect/*  cors({ origin: true, credentials: true })      reflects every Origin: must be flagged
// /explicit/* cors({ origin: ALLOWED_ORIGIN, credentials: true })  a fixed origin: must not be
"use strict";

const express = require("express");
const cors = require("cors");

const port = Number(process.argv[2]);
const allowed = process.argv[3];
const app = express();

function routes(router) {
  router.get("/data", (req, res) => res.json({ user: "alice", path: req.originalUrl }));
  router.put("/items", (req, res) => res.json({ updated: true }));
  router.delete("/items", (req, res) => res.status(204).end());
  return router;
}

app.use("/reflect", cors({ origin: true, credentials: true }), routes(express.Router()));
app.use("/explicit", cors({ origin: allowed, credentials: true }), routes(express.Router()));

app.listen(port, "127.0.0.1", () => console.log(`express listening on 127.0.0.1:${port}`));
