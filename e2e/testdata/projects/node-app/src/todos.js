'use strict';
// The to-do list, shared by the server and the browser client.
class TodoList {
  constructor() {
    this.items = [];
    this.next = 1;
  }

  add(title) {
    if (typeof title !== 'string' || title.trim() === '') {
      throw new Error('a todo needs a title');
    }
    const todo = { id: this.next++, title: title.trim(), done: false };
    this.items.push(todo);
    return todo;
  }

  done(id) {
    const todo = this.items.find((t) => t.id === id);
    if (todo) todo.done = true;
    return todo;
  }

  all() {
    return this.items.map((t) => ({ ...t }));
  }
}

module.exports = { TodoList };
