// The browser client, bundled by webpack (Babel for older browsers).
import { TodoList } from './todos';

const render = (root, todos) => {
  root.innerHTML = todos
    .map(({ id, title, done }) => `<li data-id="${id}" class="${done ? 'done' : ''}">${title}</li>`)
    .join('');
};

export async function main(root = document.getElementById('todos')) {
  const res = await fetch('/api/todos');
  const list = new TodoList();
  for (const todo of await res.json()) {
    Object.assign(list.add(todo.title), todo);
  }
  render(root, list.all());
}

if (typeof document !== 'undefined') {
  main();
}
