//! Projects (a tenant's buckets of files, each with a policy) and their
//! nested folders.

use crate::Service;
use crate::accounts::new_project;
use intake_catalog::CatalogError;
use intake_core::{
    Error, ErrorKind, Folder, Policy, Principal, Project, ROOT_FOLDER, Scope, Tenant, name, now,
};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    pub slug: String,
    pub name: Option<String>,
    #[serde(default)]
    pub policy: Policy,
}

fn project_not_found(id: &str) -> Error {
    Error::new(
        ErrorKind::NotFound,
        "project_not_found",
        format!("no project {id:?}"),
    )
}

fn folder_not_found(id: i64) -> Error {
    Error::new(
        ErrorKind::NotFound,
        "folder_not_found",
        format!("no folder {id}"),
    )
}

impl Service {
    /// The project, if the caller holds `scope` and reaches it. A project the
    /// caller cannot reach is not found, like another tenant's.
    pub async fn project_for(
        &self,
        who: &Principal,
        id_or_slug: &str,
        scope: Scope,
    ) -> Result<Project, Error> {
        who.require(scope)?;
        let project = match self.catalog.project(&who.tenant.id, id_or_slug).await {
            Ok(p) => p,
            Err(e) if e.is_not_found() => return Err(project_not_found(id_or_slug)),
            Err(e) => return Err(e.into()),
        };
        if !who.reaches(&project.id) {
            return Err(project_not_found(id_or_slug));
        }
        Ok(project)
    }

    pub async fn create_project(
        &self,
        who: Option<&Principal>,
        tenant: &Tenant,
        new: NewProject,
    ) -> Result<Project, Error> {
        if let Some(who) = who {
            who.require(Scope::ProjectsAdmin)?;
            if !who.projects.is_empty() {
                return Err(Error::forbidden(
                    "a credential limited to projects cannot create projects",
                ));
            }
        }
        new.policy.validate()?;
        let slug = name::check_slug(&new.slug, "project slug")?;
        let display =
            name::check_display_name(new.name.as_deref().unwrap_or(&slug), "project name")?;
        let project = new_project(tenant, &slug, &display, new.policy);
        self.catalog.create_project(&project).await?;
        Ok(project)
    }

    pub async fn list_projects(&self, who: &Principal) -> Result<Vec<Project>, Error> {
        who.require(Scope::FilesRead)?;
        let all = self.catalog.list_projects(&who.tenant.id).await?;
        Ok(all.into_iter().filter(|p| who.reaches(&p.id)).collect())
    }

    /// Changes the name and/or policy.
    pub async fn update_project(
        &self,
        who: &Principal,
        id_or_slug: &str,
        name: Option<&str>,
        policy: Option<Policy>,
    ) -> Result<Project, Error> {
        let mut project = self
            .project_for(who, id_or_slug, Scope::ProjectsAdmin)
            .await?;
        if let Some(n) = name {
            project.name = name::check_display_name(n, "project name")?;
        }
        if let Some(policy) = policy {
            policy.validate()?;
            project.policy = policy;
        }
        project.updated_at = now();
        self.catalog.update_project(&project).await?;
        Ok(project)
    }

    /// For the admin CLI: replaces a project's policy.
    pub async fn set_policy_unchecked(
        &self,
        tenant: &Tenant,
        id_or_slug: &str,
        policy: Policy,
    ) -> Result<Project, Error> {
        policy.validate()?;
        let mut project = self
            .catalog
            .project(&tenant.id, id_or_slug)
            .await
            .map_err(|e| {
                if e.is_not_found() {
                    project_not_found(id_or_slug)
                } else {
                    e.into()
                }
            })?;
        project.policy = policy;
        project.updated_at = now();
        self.catalog.update_project(&project).await?;
        Ok(project)
    }

    pub async fn list_projects_unchecked(&self, tenant: &Tenant) -> Result<Vec<Project>, Error> {
        Ok(self.catalog.list_projects(&tenant.id).await?)
    }

    pub async fn delete_project(&self, who: &Principal, id_or_slug: &str) -> Result<(), Error> {
        let project = self
            .project_for(who, id_or_slug, Scope::ProjectsAdmin)
            .await?;
        Ok(self
            .catalog
            .delete_project(&who.tenant.id, &project.id)
            .await?)
    }

    pub async fn create_folder(
        &self,
        who: &Principal,
        project: &str,
        parent_id: i64,
        name: &str,
    ) -> Result<Folder, Error> {
        let project = self.project_for(who, project, Scope::FoldersWrite).await?;
        let name = name::check_display_name(name, "folder name")?;
        if parent_id < ROOT_FOLDER {
            return Err(Error::bad_request(
                "invalid_folder",
                "parent_id must be 0 (the root) or a folder id",
            ));
        }
        match self
            .catalog
            .create_folder(&project.id, parent_id, &name)
            .await
        {
            Ok(folder) => Ok(folder),
            Err(CatalogError::Conflict {
                code: "unknown_parent",
                ..
            }) => Err(folder_not_found(parent_id)),
            Err(e) => Err(e.into()),
        }
    }

    /// A folder of a project the caller reads; the root (0) has no record.
    pub async fn folder(&self, project: &Project, id: i64) -> Result<Folder, Error> {
        self.catalog.folder(&project.id, id).await.map_err(|e| {
            if e.is_not_found() {
                folder_not_found(id)
            } else {
                e.into()
            }
        })
    }

    /// Checks that `id` is the root or a folder of the project.
    pub async fn check_folder(&self, project: &Project, id: i64) -> Result<(), Error> {
        if id == ROOT_FOLDER {
            return Ok(());
        }
        if id < ROOT_FOLDER {
            return Err(folder_not_found(id));
        }
        self.folder(project, id).await.map(|_| ())
    }

    pub async fn list_folders(
        &self,
        project: &Project,
        parent_id: Option<i64>,
    ) -> Result<Vec<Folder>, Error> {
        Ok(self.catalog.list_folders(&project.id, parent_id).await?)
    }

    pub async fn delete_folder(
        &self,
        who: &Principal,
        project: &str,
        id: i64,
    ) -> Result<(), Error> {
        let project = self.project_for(who, project, Scope::FoldersWrite).await?;
        self.catalog
            .delete_folder(&project.id, id)
            .await
            .map_err(|e| {
                if e.is_not_found() {
                    folder_not_found(id)
                } else {
                    e.into()
                }
            })
    }
}
