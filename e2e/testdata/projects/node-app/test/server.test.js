'use strict';
const test = require('node:test');
const assert = require('node:assert');
const request = require('supertest');
const { app } = require('../src/server');

test('todos: add, list, done', async () => {
  const a = app(undefined, { log: false });
  await request(a).post('/api/todos').send({}).expect(400);
  const created = await request(a).post('/api/todos').send({ title: ' milk ' }).expect(201);
  assert.deepStrictEqual(created.body, { id: 1, title: 'milk', done: false });
  await request(a).post('/api/todos/1/done').expect(200);
  await request(a).post('/api/todos/2/done').expect(404);
  const list = await request(a).get('/api/todos').expect(200);
  assert.deepStrictEqual(list.body, [{ id: 1, title: 'milk', done: true }]);
});

test('healthz', async () => {
  await request(app(undefined, { log: false })).get('/healthz').expect(200, { status: 'ok' });
});
