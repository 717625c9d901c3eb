import { createRouter, createWebHistory } from 'vue-router';
import { loadSession } from './session';
import Login from './pages/Login.vue';
import Workbench from './pages/Workbench.vue';
import StageEntry from './pages/StageEntry.vue';
import Users from './pages/Users.vue';
import Forbidden from './pages/Forbidden.vue';
import Tasks from './pages/Tasks.vue';
import TaskCreate from './pages/TaskCreate.vue';
import TaskDetail from './pages/TaskDetail.vue';
import AuditQueue from './pages/AuditQueue.vue';
import AuditRecord from './pages/AuditRecord.vue';
import Codes from './pages/Codes.vue';
import Devices from './pages/Devices.vue';
import Catalog from './pages/Catalog.vue';
import Members from './pages/Members.vue';
import Network from './pages/Network.vue';
import Assets from './pages/Assets.vue';
import AssetClass from './pages/AssetClass.vue';
import Templates from './pages/Templates.vue';
import TemplateVersion from './pages/TemplateVersion.vue';
import TemplateEditor from './pages/TemplateEditor.vue';

/** `page` names the server's page table entry (console/src/access.ts): the session lists the ones this user may open. */
export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/login', component: Login, meta: { public: true } },
    { path: '/', component: Workbench, meta: { page: 'workbench' } },
    { path: '/tasks/:taskId/stages/:stage', component: StageEntry, meta: { page: 'stageEntry' }, props: true },
    { path: '/users', component: Users, meta: { page: 'users' } },
    { path: '/tasks', component: Tasks, meta: { page: 'tasks' } },
    { path: '/tasks/new', component: TaskCreate, meta: { page: 'taskCreate' } },
    { path: '/tasks/:taskId', component: TaskDetail, meta: { page: 'tasks' }, props: true },
    { path: '/audit', component: AuditQueue, meta: { page: 'audit' } },
    { path: '/audit/:taskId/:stage', component: AuditRecord, meta: { page: 'audit' }, props: true },
    { path: '/codes', component: Codes, meta: { page: 'codes' } },
    { path: '/devices', component: Devices, meta: { page: 'devices' } },
    { path: '/catalog', component: Catalog, meta: { page: 'catalog' } },
    { path: '/members', component: Members, meta: { page: 'members' } },
    { path: '/network', component: Network, meta: { page: 'network' } },
    { path: '/assets', component: Assets, meta: { page: 'assets' } },
    { path: '/assets/:classId', component: AssetClass, meta: { page: 'assets' }, props: true },
    { path: '/designer', component: Templates, meta: { page: 'designer' } },
    { path: '/designer/edit', component: TemplateEditor, meta: { page: 'designer' } },
    { path: '/designer/:id/:version', component: TemplateVersion, meta: { page: 'designer' }, props: true },
    { path: '/forbidden', component: Forbidden },
    { path: '/:rest(.*)', redirect: '/' },
  ],
});

router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  const s = await loadSession();
  if (!s) return { path: '/login', query: { next: to.fullPath } };
  if (typeof to.meta.page === 'string' && !s.pages.includes(to.meta.page)) return { path: '/forbidden' };
  return true;
});
