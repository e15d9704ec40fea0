'use strict';
// A small JSON API for a to-do list, serving the bundled client from dist/.
const path = require('node:path');
const compression = require('compression');
const express = require('express');
const morgan = require('morgan');
const { TodoList } = require('./todos');

function app(list = new TodoList(), { log = process.env.NODE_ENV !== 'test' } = {}) {
  const a = express();
  a.use(compression());
  if (log) a.use(morgan('combined'));
  a.use(express.json());
  a.use(express.static(path.join(__dirname, '..', 'dist')));
  a.get('/healthz', (req, res) => res.json({ status: 'ok' }));
  a.get('/api/todos', (req, res) => res.json(list.all()));
  a.post('/api/todos', (req, res) => {
    try {
      res.status(201).json(list.add(req.body && req.body.title));
    } catch (err) {
      res.status(400).json({ error: err.message });
    }
  });
  a.post('/api/todos/:id/done', (req, res) => {
    const todo = list.done(Number(req.params.id));
    if (!todo) return res.status(404).json({ error: 'no such todo' });
    return res.json(todo);
  });
  return a;
}

if (require.main === module) {
  const port = Number(process.env.PORT || 8080);
  app().listen(port, () => console.log(`node-app listening on :${port}`));
}

module.exports = { app };
