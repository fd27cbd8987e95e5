// `users`: the agents and their current availability.

import { formatUsers } from '../format.js';
import { listUsers } from '../queries.js';
import { stateListCommand } from './state-list.js';

export const usersCommand = stateListCommand({
  name: 'users',
  table: 'users',
  summary: 'agents and their current availability',
  description: `Every agent the stack has heard of, by name: id, name, email, available, availability_status, and the
last event that changed them.`,
  noun: 'users',
  list: listUsers,
  format: formatUsers,
});
